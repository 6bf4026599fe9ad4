using DefectInspector.Host.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Health;

/// <summary>
/// The web host's server: Kestrel on Health:Url, or nothing at all when Health:Url is empty. A bind failure (the port
/// in use, an address this machine does not have) becomes a start-up error that names Health:Url.
/// </summary>
internal sealed class HealthServer(IServer? kestrel, string url, bool loopback, ILogger<HealthServer> logger) : IServer
{
    private readonly FeatureCollection noFeatures = new();

    public IFeatureCollection Features => kestrel?.Features ?? noFeatures;

    public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
    {
        if (kestrel is null) return;
        try
        {
            await kestrel.StartAsync(application, cancellationToken);
        }
        catch (IOException e)
        {
            throw new DaemonStartException(
                $"Health:Url '{url}': cannot listen there: {e.Message} Choose a free port (another process may have this one), or set Health:Url empty to turn the endpoints off.", e);
        }
        if (loopback)
            logger.LogInformation("Health endpoints: {Url}/healthz, /readyz and /metrics", url.TrimEnd('/'));
        else
            logger.LogWarning("Health endpoints: {Url}/healthz, /readyz and /metrics, reachable from other machines and without authentication", url.TrimEnd('/'));
    }

    public Task StopAsync(CancellationToken cancellationToken) => kestrel?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose() => kestrel?.Dispose();
}
