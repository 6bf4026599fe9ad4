using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace DefectInspector.Host.Health;

/// <summary>/healthz, /readyz and /metrics on Health:Url (loopback by default; empty = none): no login, so keep them close.</summary>
internal sealed class HealthEndpoints(HealthProbe probe, DaemonMetrics metrics) : IWebEndpoints
{
    public string Listener => $"{HealthOptions.Section}:{nameof(HealthOptions.Url)}";

    public static void Add(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        DaemonHost.AddValidated<HealthOptions, HealthOptionsValidator>(services, builder.Configuration, HealthOptions.Section);
        services.AddSingleton<PipelineHealth>();
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<DaemonMetrics>();
        services.AddSingleton<IWebEndpoints, HealthEndpoints>();
    }

    public void Map(IEndpointRouteBuilder endpoints)
    {
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
}
