#!/usr/bin/env bash
# Prepares a fresh Debian 12+/Ubuntu 22.04+ machine to build, test and run DefectInspector:
# the native libraries OpenCvSharp needs, Mosquitto for the MQTT tests (they start their own brokers), Node.js and npm
# for the Sparkplug tests' decoder,
# Chromium for the HMI tests (and as the station screen's kiosk browser), and the .NET 10 SDK when it is not
# already installed.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# apt-get update takes tens of seconds: once at most, and not at all on a machine that has everything.
updated=0
apt_update() { if [ "$updated" -eq 0 ]; then as_root apt-get update -qq; updated=1; fi; }

# apt-cache answers only from downloaded package lists: a fresh machine (or image) has none yet.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then apt_update; fi

# ffmpeg receives and decodes network cameras (rtsp://, http://): OpenCvSharp's bundled FFmpeg has no network protocols.
# mosquitto is the broker the tests (and a single-station install without the embedded broker) talk to, and
# mosquitto-clients the README's first subscription and trigger; openssl makes the tests' TLS certificates; GNU time
# measures the bad-input tests' peak memory.
packages=(libgtk-3-0 ca-certificates ffmpeg mosquitto mosquitto-clients openssl time)
# Ubuntu 24.04+ renamed the GTK runtime package.
if ! apt-cache show libgtk-3-0 >/dev/null 2>&1; then packages=(libgtk-3-0t64 ca-certificates ffmpeg mosquitto mosquitto-clients openssl time); fi
# node and npm run the Sparkplug tests' independent decoder (tests/Shared/Sparkplug/decoder).
# Asked for by command, not package: NodeSource's nodejs package bundles npm and conflicts with Debian's npm.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi
# The HMI tests drive Debian's /usr/bin/chromium with Playwright (never a downloaded browser). Ubuntu ships chromium
# only as a snap: there, install it yourself and link it to /usr/bin/chromium.
if apt-cache show chromium >/dev/null 2>&1; then
  # A CJK font, so the HMI's Simplified Chinese renders in the tests' screenshots as on a Chinese line PC.
  packages+=(chromium fonts-wqy-microhei)
elif [ ! -x /usr/bin/chromium ]; then
  echo "setup: no Debian chromium package here; the HMI browser tests need /usr/bin/chromium"
fi

missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # The tests run Mosquitto themselves; the system service the package enables would hold port 1883,
  # the embedded broker's default.
  if [[ " ${missing[*]} " == *" mosquitto "* ]] && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now mosquitto >/dev/null 2>&1 || true
    echo "setup: disabled the mosquitto system service (the tests start their own brokers)"
  fi
fi

if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "setup: installing the .NET 10 SDK"
  if apt-cache show dotnet-sdk-10.0 >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dotnet-sdk-10.0 >/dev/null
  else
    curl -fsSL https://dot.net/v1/dotnet-install.sh -o /tmp/dotnet-install.sh
    bash /tmp/dotnet-install.sh --channel 10.0 --install-dir "$HOME/.dotnet"
    export PATH="$HOME/.dotnet:$PATH"
    echo "setup: add $HOME/.dotnet to PATH in your shell profile"
  fi
fi
echo "setup: ready ($(dotnet --version))"
