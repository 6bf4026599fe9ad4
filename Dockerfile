# syntax=docker/dockerfile:1
# DefectInspector daemon image (docs/deploy.md, "Docker").
#
#   docker build -t defect-inspector .                                   CPU: ONNX Runtime (CPU) and libtorch-cpu
#   docker build -t defect-inspector:gpu --build-arg FLAVOUR=gpu .       GPU: ONNX Runtime with CUDA and TensorRT;
#                                                                        run with --gpus all (docs/gpu.md)
#   docker run --rm defect-inspector --help                              any other command works too
#
# The default command is the daemon, `defect-inspector run`, configured by DEFECTINSPECTOR_Section__Key variables
# (or --config FILE with a mounted file). Its state (demo model, folder-source journals, outbox) goes to the volume
# /var/lib/defect-inspector.
#
# Base images: .NET 10 ships no Debian images; `10.0` is Ubuntu 24.04 "noble". The tag is pinned to the noble
# variant so that a change of the default cannot move the build and runtime stages to different distributions:
# the build patches TorchSharp's native library for the C++ runtime of the machine it runs on (README, "Build
# notes"), so build and run must see the same libstdc++. Noble's is new enough that no patch is needed.

ARG FLAVOUR=cpu
ARG DOTNET_TAG=10.0-noble
# GPU flavour only: the daemon serves on ONNX Runtime's CUDA/TensorRT providers (Model:Engine=onnx), which need the CUDA
# 13 runtime and cuDNN 9 from the base image (what Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0 links), and TensorRT 10 for
# Model:Device=tensorrt (add it to this image, or pick a TensorRT base). libtorch stays the CPU build: the registry has
# no CUDA libtorch, so training runs on the CPU. Pick a tag your driver supports.
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# ---- build ---------------------------------------------------------------------------------------------------------
# The SDK runs natively on the build machine; the output is linux-x64 whatever that machine is (Directory.Build.props
# sets the runtime identifier), because the natives (libtorch, OpenCV) exist for linux-x64 only. The runtime stages
# below are therefore amd64 even when built on an arm64 machine.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_TAG} AS build
ARG FLAVOUR
WORKDIR /src
COPY . .
# The NuGet cache is a build cache, not a layer: libtorch is large, ONNX Runtime's GPU package half a GB.
RUN --mount=type=cache,id=defect-inspector-nuget,target=/root/.nuget/packages \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    dotnet publish src/DefectInspector.Cli -c Release -o /app -p:OnnxRuntimeFlavour=${FLAVOUR}

# ---- runtime bases: one per flavour, the final stage picks one ----------------------------------------------------
FROM --platform=linux/amd64 mcr.microsoft.com/dotnet/runtime:${DOTNET_TAG} AS runtime-cpu

FROM --platform=linux/amd64 mcr.microsoft.com/dotnet/runtime:${DOTNET_TAG} AS dotnet-runtime

FROM --platform=linux/amd64 ${CUDA_IMAGE} AS runtime-gpu
# The .NET runtime from Microsoft's image of the same Ubuntu release, and what it needs from the OS
# (the packages Microsoft's runtime-deps image for noble installs).
COPY --from=dotnet-runtime /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libc6 libgcc-s1 libicu74 libssl3t64 libstdc++6 tzdata \
 && rm -rf /var/lib/apt/lists/*
ENV DOTNET_RUNNING_IN_CONTAINER=true \
    DEFECTINSPECTOR_Model__Engine=onnx \
    DEFECTINSPECTOR_Model__Device=cuda

# ---- final ---------------------------------------------------------------------------------------------------------
FROM runtime-${FLAVOUR}
ARG FLAVOUR
LABEL org.opencontainers.image.title="defect-inspector" \
      org.opencontainers.image.description="DefectInspector: GAP-ResNet defect inspection with class activation maps, verdicts over MQTT" \
      io.defect-inspector.flavour="${FLAVOUR}"

# OpenCvSharp's native library links GTK 3 (libgtk-3-0t64 from Ubuntu 24.04 / Debian 13 on); libtorch needs OpenMP;
# ffmpeg receives network cameras (rtsp://, http://), which OpenCvSharp's bundled FFmpeg cannot; curl runs the health check.
RUN apt-get update \
 && (apt-get install -y --no-install-recommends libgtk-3-0t64 || apt-get install -y --no-install-recommends libgtk-3-0) \
 && apt-get install -y --no-install-recommends libgomp1 ffmpeg curl \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid so that bind-mounted folders (input folders, a host state directory) can be given to it:
# chown 10001:10001 <folder>. Group video (gid 44 in the Ubuntu image) for /dev/video* passed with --device.
RUN groupadd --system --gid 10001 defect-inspector \
 && useradd --system --uid 10001 --gid defect-inspector --groups video --home-dir /var/lib/defect-inspector \
      --no-create-home --shell /usr/sbin/nologin defect-inspector \
 && install -d -o defect-inspector -g defect-inspector -m 0750 /var/lib/defect-inspector

WORKDIR /app
# Binaries stay owned by root: the daemon cannot modify itself.
COPY --from=build /app ./
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/defect-inspector-healthcheck
COPY --chmod=0755 deploy/gpu-check.sh /usr/local/bin/defect-inspector-gpu-check

ENV DEFECTINSPECTOR_Storage__Path=/var/lib/defect-inspector
VOLUME ["/var/lib/defect-inspector"]

# Only used by the embedded broker (Mqtt:Host empty). Inside a container it must listen on all interfaces to be
# reachable: DEFECTINSPECTOR_Mqtt__EmbeddedBindAddress=0.0.0.0 -- and then anyone who reaches the port reaches the
# broker, so it must require credentials (Mqtt:Username, Mqtt:PasswordFile), or keep the port unpublished. With an external
# broker (the usual case, see deploy/docker-compose.yml) nothing listens here.
EXPOSE 1883

USER defect-inspector
# SIGTERM drains the pipeline and exits 0; give it more than Docker's default 10 s (docker stop -t 45,
# stop_grace_period in compose).
STOPSIGNAL SIGTERM
# Liveness: /healthz on Health:Url (loopback 8080 by default) must answer 200. The first start trains the demo model
# before the endpoint is up: failures in the first 5 minutes do not count. The script says how Health:Url is found.
HEALTHCHECK --interval=30s --timeout=10s --start-period=5m --retries=3 CMD ["/usr/local/bin/defect-inspector-healthcheck"]
ENTRYPOINT ["/app/defect-inspector"]
CMD ["run"]
