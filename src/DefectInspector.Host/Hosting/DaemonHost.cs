using DefectInspector.Host.Capture;
using DefectInspector.Host.Health;
using DefectInspector.Host.Hmi;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Outbox;
using DefectInspector.Publish.Sparkplug;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>Builds the daemon: configuration, validated options, the pipeline and the systemd integration.</summary>
public static class DaemonHost
{
    /// <summary>
    /// The exit code of a daemon that stopped because a stage stayed stuck in one call for Pipeline:StallExitSeconds
    /// (<see cref="StallExit"/>): not 0, so that systemd's Restart=on-failure restarts it, and not 1 (a failure at
    /// start or a pipeline loop that died), so that the journal and `docker inspect` tell the two apart.
    /// </summary>
    public const int ExitStalled = 3;

    /// <summary>
    /// <paramref name="configFile"/> null = config/appsettings.json beside the executable; <paramref name="overrides"/>
    /// are --Section:Key=value arguments; <paramref name="addServices"/> adds what the caller supplies (the command
    /// line's <see cref="IDefaultModel"/>).
    /// </summary>
    public static IHost Build(string? configFile, IReadOnlyList<string> overrides, Action<IServiceCollection>? addServices = null)
    {
        // A web application for the health endpoints and the HMI; with neither it is the same generic host (see WebServer).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "defect-inspector",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddDaemonSources(configFile, overrides);
        var configuration = builder.Configuration;
        WebServer.Add(builder);
        HealthEndpoints.Add(builder);
        HmiEndpoints.Add(builder);
        builder.Services.AddHostedService<NativeMemoryTrimmer>();

        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        // The host logs a failed start as an error with the exception's stack (a bad Model:Path is no crash) and then
        // the cancelled background services; `run` reports a failed start once, itself. A background service that
        // fails later is still logged, at Critical, with its exception.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        AddSystemd(builder.Services);

        AddValidated<StationOptions, StationOptionsValidator>(builder.Services, configuration, StationOptions.Section);
        AddValidated<ModelOptions, ModelOptionsValidator>(builder.Services, configuration, ModelOptions.Section);
        AddValidated<PipelineOptions, PipelineOptionsValidator>(builder.Services, configuration, PipelineOptions.Section);
        AddValidated<StorageOptions, StorageOptionsValidator>(builder.Services, configuration, StorageOptions.Section);
        AddValidated<MqttOptions, MqttOptionsValidator>(builder.Services, configuration, MqttOptions.Section);
        AddValidated<SparkplugOptions, SparkplugOptionsValidator>(builder.Services, configuration, SparkplugOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<CamerasOptions>, CamerasOptionsValidator>();
        builder.Services.AddOptions<CamerasOptions>()
            .Configure(o => configuration.GetSection(CamerasOptions.Section).Bind(o.Cameras, b => b.ErrorOnUnknownConfiguration = true))
            .ValidateOnStart();

        builder.Services.Configure<HostOptions>(o =>
        {
            var defaults = new PipelineOptions();
            var drain = configuration.GetValue($"{PipelineOptions.Section}:{nameof(PipelineOptions.DrainTimeoutSeconds)}", defaults.DrainTimeoutSeconds);
            var delivery = configuration.GetValue($"{PipelineOptions.Section}:{nameof(PipelineOptions.DeliveryDrainSeconds)}", defaults.DeliveryDrainSeconds);
            o.ShutdownTimeout = TimeSpan.FromSeconds(Math.Clamp(drain, 0, 600) + Math.Clamp(delivery, 0, 600) + 15);
            o.ServicesStartConcurrently = false;
            o.ServicesStopConcurrently = false;
        });

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StageMonitor>();
        services.AddSingleton(sp => CameraStatusBoard.Starting(sp.GetRequiredService<IOptions<CamerasOptions>>().Value.Cameras.Select(c => c.Name)));
        services.AddSingleton<PipelineStats>();
        services.AddSingleton<AlarmBoard>();
        services.AddSingleton(sp =>
        {
            var s = sp.GetRequiredService<IOptions<StationOptions>>().Value;
            return new StationIdentity(s.Site, s.Line, s.ResolvedStation);
        });
        services.AddSingleton(sp =>
        {
            var station = sp.GetRequiredService<StationIdentity>();
            return new Topics(sp.GetRequiredService<IOptions<MqttOptions>>().Value.TopicPrefix, station.Site, station.Line, station.Station);
        });
        services.AddSingleton(sp =>
        {
            var station = sp.GetRequiredService<StationIdentity>();
            var time = sp.GetRequiredService<TimeProvider>();
            var status = new StatusMessage { State = StationStates.Online, Site = station.Site, Line = station.Line, Station = station.Station, At = time.GetUtcNow(), Version = ProductVersion.Current };
            return new MqttPublisher(sp.GetRequiredService<IOptions<MqttOptions>>().Value, sp.GetRequiredService<Topics>(), status, sp.GetRequiredService<ILogger<MqttPublisher>>(), time);
        });
        services.AddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return SqliteOutbox.Open(storage.OutboxFile, storage.OutboxMaxMegabytes * 1024L * 1024L, sp.GetRequiredService<AlarmBoard>(), sp.GetRequiredService<ILogger<SqliteOutbox>>(),
                sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<IOutboxBacklog, SqliteOutboxBacklog>();

        // The line, stage by stage: what each stage needs from the others is one of these.
        services.AddSingleton<ModelLoader>();
        services.AddSingleton<LineModel>();
        services.AddSingleton<PipelineLoops>();
        services.AddSingleton<CameraSet>();
        services.AddSingleton<TriggerDesk>();
        services.AddSingleton<ErrorVerdicts>();
        services.AddSingleton<DecidedVerdicts>();
        services.AddSingleton<StationStatus>();
        services.AddSingleton<StatusReporter>();
        services.AddSingleton<SparkplugEdge>();
        // The HMI (added above when Hmi:Url is set) takes flagged parts for review and shows the line live.
        services.TryAddSingleton<IReviewSink, NoReviews>();
        services.TryAddSingleton<ILiveView, NoLiveView>();
        addServices?.Invoke(services);

        // Start order is registration order, and stop order the reverse: the embedded broker listens before anything
        // connects to it; the model is loaded before the station describes itself; capture starts last and stops
        // first, so what it captured drains through inspection into the outbox, the outbox is given its time to
        // deliver, the station says it is offline, and only then do the connections close.
        services.AddHostedService<EmbeddedBrokerService>();
        services.AddHostedService<ModelService>();
        services.AddHostedService<BrokerService>();
        services.AddHostedService<StatusService>();
        services.AddHostedService<DeliveryService>();
        services.AddHostedService<InspectionService>();
        services.AddHostedService<CaptureService>();
        services.AddHostedService<WatchdogService>();
        services.AddHostedService<StallExit>();
        return builder.Build();
    }

    /// <summary>
    /// systemd integration (Type=notify lifetime, journal log format) when systemd runs us; also whenever a supervisor
    /// hands us NOTIFY_SOCKET without being PID 1's systemd (containers' init, a test harness), so READY=1 and
    /// WATCHDOG=1 reach whoever asked for them.
    /// </summary>
    private static void AddSystemd(IServiceCollection services)
    {
        services.AddSystemd();
        services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        if (!SystemdHelpers.IsSystemdService() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
            services.AddSingleton<IHostLifetime, SystemdLifetime>();
    }

    internal static void AddValidated<TOptions, TValidator>(IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        services.AddOptions<TOptions>()
            .Bind(configuration.GetSection(section), b => b.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
    }
}
