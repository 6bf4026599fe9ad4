using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DefectInspector.Host.Health;

/// <summary>
/// /healthz, /readyz and /metrics: minimal API endpoints served by Kestrel inside the daemon's own host, on
/// Health:Url (loopback by default; empty = no server at all).
/// </summary>
internal static class HealthEndpoints
{
    /// <summary>Registers everything; call before the Logging section is applied, so that it can turn Kestrel's logs up again.</summary>
    public static void Add(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Kestrel's and ASP.NET Core's own information logs (each request, each connection) are noise in a daemon's journal.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        DaemonHost.AddValidated<HealthOptions, HealthOptionsValidator>(services, builder.Configuration, HealthOptions.Section);
        services.AddSingleton<PipelineHealth>();
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<DaemonMetrics>();
        services.AddRoutingCore();

        // The server is made when the host is built, before the options are validated (at start, which an invalid
        // Health:Url never reaches): it reads the raw setting, and an unusable one means no server.
        builder.WebHost.UseKestrelCore();
        services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>((kestrel, configuration) =>
        {
            if (!HealthOptions.TryParseUrl(RawUrl(configuration), out var endpoint)) return;
            if (endpoint.Address is null) kestrel.ListenLocalhost(endpoint.Port);
            else kestrel.Listen(endpoint.Address, endpoint.Port);
        });
        var kestrel = services.Last(d => d.ServiceType == typeof(IServer));
        services.Remove(kestrel);
        services.AddSingleton<IServer>(sp =>
        {
            string url = RawUrl(sp.GetRequiredService<IConfiguration>());
            bool enabled = HealthOptions.TryParseUrl(url, out var endpoint);
            return new HealthServer(enabled ? Create(sp, kestrel) : null, url, endpoint.IsLoopback, sp.GetRequiredService<ILogger<HealthServer>>());
        });
        services.AddSingleton<IStartupFilter, MapEndpoints>();

        // WebApplication starts its server after every other hosted service. Started first instead, /healthz answers
        // while the model loads and the broker connects, and a port already in use stops start-up before either.
        builder.Host.ConfigureContainer<IServiceCollection>((_, all) =>
        {
            var daemon = all.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Assembly == typeof(HealthEndpoints).Assembly).ToList();
            foreach (var service in daemon)
            {
                all.Remove(service);
                all.Add(service);
            }
        });
    }

    private static string RawUrl(IConfiguration configuration) =>
        configuration[$"{HealthOptions.Section}:{nameof(HealthOptions.Url)}"] ?? HealthOptions.DefaultUrl;

    private static IServer Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance as IServer
        ?? descriptor.ImplementationFactory?.Invoke(services) as IServer
        ?? (IServer)ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!);

    private static void Map(IEndpointRouteBuilder endpoints)
    {
        var probe = endpoints.ServiceProvider.GetRequiredService<HealthProbe>();
        var metrics = endpoints.ServiceProvider.GetRequiredService<DaemonMetrics>();
        endpoints.MapGet("/healthz", () =>
        {
            var report = probe.Liveness();
            return Results.Json(report, statusCode: report.IsAlive ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        endpoints.MapGet("/readyz", () =>
        {
            var report = probe.Readiness();
            return Results.Json(report, statusCode: report.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        endpoints.MapMetrics("/metrics", metrics.Registry);
    }

    /// <summary>
    /// Maps the endpoints as the web application is built (at start), which also creates the probe and the metrics
    /// before the first frame, so neither misses an event.
    /// </summary>
    private sealed class MapEndpoints : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseRouting();
            app.UseEndpoints(Map);
            next(app);
        };
    }
}
