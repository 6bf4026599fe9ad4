# DefectInspector on a line-side PC or edge box: docker build -t defect-inspector . && docker run --rm defect-inspector --help
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/DefectInspector.Cli -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
# OpenCvSharp's native library links GTK 3 (named libgtk-3-0t64 from Ubuntu 24.04 on); libtorch needs OpenMP;
# ffmpeg receives network cameras (rtsp://, http://), which OpenCvSharp's bundled FFmpeg cannot.
RUN apt-get update \
 && (apt-get install -y --no-install-recommends libgtk-3-0t64 || apt-get install -y --no-install-recommends libgtk-3-0) \
 && apt-get install -y --no-install-recommends libgomp1 ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
RUN useradd --system --home /var/lib/defect-inspector defect-inspector
USER defect-inspector
ENTRYPOINT ["dotnet", "/app/defect-inspector.dll"]
CMD ["--help"]
