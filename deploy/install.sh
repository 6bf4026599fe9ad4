#!/usr/bin/env bash
# Installs or updates DefectInspector as the systemd service `defect-inspector` (docs/deploy.md).
#
#   sudo deploy/install.sh [--from DIR] [--no-start]     install or update
#   sudo deploy/install.sh --uninstall [--purge]         remove (keeps config and state unless --purge)
#
# --from DIR: a `dotnet publish src/DefectInspector.Cli -c Release -o DIR` folder. Without it the script uses
#   ./app next to itself (a release bundle: app/, install.sh, defect-inspector.service), else, in a repository
#   checkout with the .NET SDK, publishes to artifacts/publish/defect-inspector (as the user who ran sudo;
#   FLAVOUR=gpu in the environment for the ONNX Runtime GPU build, docs/gpu.md).
# Running it again is safe: binaries and the unit are replaced, the machine's configuration is never overwritten.
#
# Paths: /opt/defect-inspector (binaries), /etc/defect-inspector/appsettings.json (configuration),
# /etc/defect-inspector/defect-inspector.env (secrets, optional), /var/lib/defect-inspector (state, made by systemd),
# /etc/systemd/system/defect-inspector.service.
# DESTDIR=/some/dir stages the files below that folder instead (packaging, tests): no user, no chown, no systemctl.
set -euo pipefail

SERVICE=defect-inspector
SVC_USER=defect-inspector
STATE_DIR=/var/lib/defect-inspector
R="${DESTDIR:-}"
R="${R%/}"
APP_DIR="$R/opt/defect-inspector"
ETC_DIR="$R/etc/defect-inspector"
UNIT_PATH="$R/etc/systemd/system/$SERVICE.service"
DROPIN_DIR="$R/etc/systemd/system/$SERVICE.service.d"
DOTNET_DROPIN="$DROPIN_DIR/10-dotnet-root.conf"

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf 'install: %s\n' "$*"; }
warn() { printf 'install: warning: %s\n' "$*" >&2; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

from=""
mode=install
start=yes
purge=no
while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || die "--from needs a folder"; from=$2; shift 2 ;;
    --from=*) from=${1#--from=}; shift ;;
    --no-start) start=no; shift ;;
    --uninstall) mode=uninstall; shift ;;
    --purge) purge=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ "$purge" = no ] || [ "$mode" = uninstall ] || die "--purge only goes with --uninstall"

staging() { [ -n "$R" ]; }
if ! staging && [ "$(id -u)" -ne 0 ]; then die "run as root (sudo $0 ...)"; fi

# systemctl only where systemd runs this machine (not in a container or chroot, not when staging).
have_systemd() { ! staging && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# ---- uninstall ----------------------------------------------------------------------------------------------------
if [ "$mode" = uninstall ]; then
  if have_systemd && systemctl cat "$SERVICE.service" >/dev/null 2>&1; then
    say "stopping and disabling $SERVICE"
    systemctl disable --now "$SERVICE.service" || warn "could not stop $SERVICE"
  fi
  rm -f "$UNIT_PATH" "$DOTNET_DROPIN"
  # Drop-ins an administrator made (systemctl edit) stay unless purging; the folder goes once empty.
  if [ "$purge" = yes ]; then rm -rf "$DROPIN_DIR"; else rmdir "$DROPIN_DIR" 2>/dev/null || true; fi
  if have_systemd; then systemctl daemon-reload; systemctl reset-failed "$SERVICE.service" 2>/dev/null || true; fi
  rm -rf "$APP_DIR" "$APP_DIR.new" "$APP_DIR.old"
  if [ "$purge" = yes ]; then
    say "purging $ETC_DIR and $R$STATE_DIR (models, journals, outbox)"
    rm -rf "$ETC_DIR" "$R$STATE_DIR"
    if ! staging && getent passwd "$SVC_USER" >/dev/null; then userdel "$SVC_USER" || warn "could not remove user $SVC_USER"; fi
    if ! staging && getent group "$SVC_USER" >/dev/null; then groupdel "$SVC_USER" 2>/dev/null || true; fi
  else
    say "kept $ETC_DIR, $R$STATE_DIR and user $SVC_USER (--purge removes them)"
  fi
  say "uninstalled"
  exit 0
fi

# ---- find (or make) the published folder --------------------------------------------------------------------------
publish_from_checkout() {
  local repo out dotnet_bin invoker="" home=""
  repo=$(cd "$script_dir/.." && pwd)
  out="$repo/artifacts/publish/defect-inspector"
  if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    invoker=$SUDO_USER
    home=$(getent passwd "$invoker" | cut -d: -f6)
  fi
  # sudo resets PATH, and deploy/setup.sh may have put the SDK in the invoking user's ~/.dotnet.
  dotnet_bin=$(command -v dotnet || true)
  if [ -z "$dotnet_bin" ] && [ -n "$home" ] && [ -x "$home/.dotnet/dotnet" ]; then dotnet_bin="$home/.dotnet/dotnet"; fi
  [ -n "$dotnet_bin" ] || die "no --from folder and no .NET SDK to publish with (run deploy/setup.sh, or pass --from)"
  say "publishing src/DefectInspector.Cli (OnnxRuntimeFlavour=${FLAVOUR:-cpu}) to $out"
  local cmd=("$dotnet_bin" publish "$repo/src/DefectInspector.Cli" -c Release -o "$out" "-p:OnnxRuntimeFlavour=${FLAVOUR:-cpu}")
  if [ -n "$invoker" ]; then
    # As the developer, so bin/ and obj/ in the checkout do not end up owned by root.
    runuser -u "$invoker" -- env HOME="$home" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 "${cmd[@]}"
  else
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 "${cmd[@]}"
  fi
  from=$out
}

if [ -z "$from" ]; then
  if [ -x "$script_dir/app/defect-inspector" ]; then
    from="$script_dir/app"
  elif [ -f "$script_dir/../src/DefectInspector.Cli/DefectInspector.Cli.csproj" ]; then
    publish_from_checkout
  else
    die "no published folder: pass --from DIR (the output of dotnet publish src/DefectInspector.Cli -c Release -o DIR)"
  fi
fi
from=$(cd "$from" && pwd)
if [ ! -x "$from/defect-inspector" ] || [ ! -f "$from/defect-inspector.dll" ]; then
  die "$from does not look like a published DefectInspector (no defect-inspector executable and .dll)"
fi
[ -f "$from/config/appsettings.json" ] || die "$from/config/appsettings.json is missing"
unit_src="$script_dir/$SERVICE.service"
[ -f "$unit_src" ] || die "$unit_src is missing (keep the unit file next to install.sh)"

# ---- what the binaries need from this machine ---------------------------------------------------------------------
# The build is framework-dependent: the .NET 10 runtime must be installed where the service can read it. The
# executable looks in $DOTNET_ROOT, then the folder named in /etc/dotnet/install_location, then /usr/share/dotnet.
has_runtime() { compgen -G "$1/shared/Microsoft.NETCore.App/10.*" >/dev/null; }
dotnet_root=""
needs_dotnet_root=no
if ! staging; then
  default_root=/usr/share/dotnet
  if [ -r /etc/dotnet/install_location ]; then default_root=$(head -n 1 /etc/dotnet/install_location); fi
  if has_runtime "$default_root"; then
    dotnet_root=$default_root
  else
    candidates=()
    if command -v dotnet >/dev/null 2>&1; then candidates+=("$(dirname "$(readlink -f "$(command -v dotnet)")")"); fi
    candidates+=(/usr/lib/dotnet /usr/local/share/dotnet /opt/dotnet)
    for c in "${candidates[@]}"; do if has_runtime "$c"; then dotnet_root=$c; break; fi; done
    [ -n "$dotnet_root" ] || die "the .NET 10 runtime is not installed (the dotnet-runtime-10.0 package, or deploy/setup.sh)"
    case "$dotnet_root" in
      /root/*|/home/*|/run/user/*)
        die "the .NET runtime in $dotnet_root is under a home directory, which the service cannot see (ProtectHome=yes); install it system-wide (the dotnet-runtime-10.0 package)" ;;
      *) ;;
    esac
    needs_dotnet_root=yes
  fi
  say ".NET runtime: $dotnet_root"

  # OpenCvSharp's native library links GTK 3; libtorch uses OpenMP.
  # (Output captured first: grep -q closing a pipe early would fail the pipeline under pipefail.)
  libs=$(ldconfig -p)
  missing=()
  grep -q 'libgtk-3\.so\.0 ' <<<"$libs" || missing+=(gtk)
  grep -q 'libgomp\.so\.1 ' <<<"$libs" || missing+=(libgomp1)
  if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing native libraries (${missing[*]}): install GTK 3 and libgomp"
    pkgs=()
    for m in "${missing[@]}"; do
      if [ "$m" = gtk ]; then
        # Debian 13 and Ubuntu 24.04 renamed the package.
        if apt-cache show libgtk-3-0t64 >/dev/null 2>&1; then pkgs+=(libgtk-3-0t64); else pkgs+=(libgtk-3-0); fi
      else
        pkgs+=("$m")
      fi
    done
    say "installing ${pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi

  # TorchSharp's native library asks for GLIBCXX_3.4.32. A publish on a machine whose libstdc++ lacks it patches the
  # copy (README, "Build notes"); a publish from a newer machine does not, and then fails to load here.
  while IFS= read -r lib; do
    # (ldd reports a patched, i.e. weak, need as "weak version ... not found", which the loader accepts.)
    needs=$(ldd "$lib" 2>&1 || true)
    if grep -v 'weak version' <<<"$needs" | grep -q "version \`GLIBCXX_[0-9.]*' not found"; then
      die "$lib needs a newer libstdc++ than this machine has: publish on a machine with the same OS release as this one (the build then patches it)"
    fi
  done < <(find "$from" -name libLibTorchSharp.so)
fi

# ---- the service user ---------------------------------------------------------------------------------------------
if ! staging; then
  if ! getent group "$SVC_USER" >/dev/null; then say "creating group $SVC_USER"; groupadd --system "$SVC_USER"; fi
  if ! getent passwd "$SVC_USER" >/dev/null; then
    say "creating system user $SVC_USER"
    useradd --system --gid "$SVC_USER" --home-dir "$STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "DefectInspector daemon" "$SVC_USER"
  fi
  # /dev/video* belong to group video (the unit adds it as well, for a user made some other way).
  if getent group video >/dev/null; then
    groups=$(id -nG "$SVC_USER")
    case " $groups " in *" video "*) ;; *) usermod -a -G video "$SVC_USER" ;; esac
  else
    warn "no group 'video' on this machine: V4L2 cameras may not be readable"
  fi
fi

# ---- binaries: copy beside, then swap, so a running daemon never sees a half-copied folder ------------------------
say "installing binaries from $from to $APP_DIR"
mkdir -p "$(dirname "$APP_DIR")"
rm -rf "$APP_DIR.new" "$APP_DIR.old"
cp -a "$from" "$APP_DIR.new"
if ! staging; then chown -R root:root "$APP_DIR.new"; fi
chmod -R u+rwX,go+rX,go-w "$APP_DIR.new"
if [ -e "$APP_DIR" ]; then mv "$APP_DIR" "$APP_DIR.old"; fi
mv "$APP_DIR.new" "$APP_DIR"
rm -rf "$APP_DIR.old"

# ---- configuration: never overwrite the machine's own -------------------------------------------------------------
mkdir -p "$ETC_DIR"
chmod 0750 "$ETC_DIR"
if ! staging; then chown "root:$SVC_USER" "$ETC_DIR"; fi
install_conf() { # install_conf SRC DEST: DEST keeps its content; a different shipped version lands in DEST.dist
  local src=$1 dest=$2
  if [ ! -e "$dest" ]; then
    say "writing $dest"
    cp "$src" "$dest"
  elif ! cmp -s "$src" "$dest"; then
    cp "$src" "$dest.dist"
    say "kept $dest; the shipped version is in $dest.dist (diff them after an update)"
  else
    rm -f "$dest.dist"
  fi
  chmod 0640 "$dest" "$dest.dist" 2>/dev/null || true
  if ! staging; then chown "root:$SVC_USER" "$dest"; [ ! -e "$dest.dist" ] || chown "root:$SVC_USER" "$dest.dist"; fi
}
install_conf "$from/config/appsettings.json" "$ETC_DIR/appsettings.json"
if [ ! -e "$ETC_DIR/$SERVICE.env" ]; then
  say "writing $ETC_DIR/$SERVICE.env (secrets and overrides, all commented out)"
  cat >"$ETC_DIR/$SERVICE.env" <<'EOF'
# Environment for the defect-inspector service (read by systemd; mode 0640, root:defect-inspector).
# Any configuration key as DEFECTINSPECTOR_Section__Key=value. Examples:
#DEFECTINSPECTOR_Mqtt__Password=change-me
#DEFECTINSPECTOR_Model__Device=cuda
EOF
  chmod 0640 "$ETC_DIR/$SERVICE.env"
  if ! staging; then chown "root:$SVC_USER" "$ETC_DIR/$SERVICE.env"; fi
fi

# ---- the unit -----------------------------------------------------------------------------------------------------
say "installing $UNIT_PATH"
mkdir -p "$(dirname "$UNIT_PATH")"
install -m 0644 "$unit_src" "$UNIT_PATH"
if [ "$needs_dotnet_root" = yes ]; then
  mkdir -p "$DROPIN_DIR"
  printf '# Written by install.sh: where the .NET runtime is on this machine.\n[Service]\nEnvironment=DOTNET_ROOT=%s\n' \
    "$dotnet_root" >"$DOTNET_DROPIN"
  chmod 0644 "$DOTNET_DROPIN"
else
  rm -f "$DOTNET_DROPIN"
  rmdir "$DROPIN_DIR" 2>/dev/null || true
fi

if ! have_systemd; then
  say "installed; systemd is not running here, so nothing was started"
  exit 0
fi
systemctl daemon-reload
if [ "$start" = no ]; then
  systemctl enable "$SERVICE.service"
  say "installed and enabled; start it with: systemctl start $SERVICE"
  exit 0
fi
# systemctl waits for READY=1 (up to TimeoutStartSec): the first start trains the demo model and needs the broker.
say "starting $SERVICE (waits until the daemon reports ready; the first start trains the demo model)"
start_failed=no
if systemctl is-active --quiet "$SERVICE.service"; then
  # An update: the new binaries only run after a restart.
  if ! { systemctl enable "$SERVICE.service" && systemctl restart "$SERVICE.service"; }; then start_failed=yes; fi
else
  systemctl enable --now "$SERVICE.service" || start_failed=yes
fi
if [ "$start_failed" = yes ]; then
  journalctl -u "$SERVICE.service" -n 30 --no-pager >&2 || true
  die "$SERVICE did not start; see journalctl -u $SERVICE"
fi
say "running: systemctl status $SERVICE, journalctl -u $SERVICE -f"
