using DefectInspector.Host.Options;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Hosting;

/// <summary>Endpoints of one listener (the health endpoints, the HMI), mapped when the web application is built.</summary>
internal interface IWebEndpoints
{
    /// <summary>The configuration key of the listener they are served on, e.g. Health:Url.</summary>
    string Listener { get; }

    void Map(IEndpointRouteBuilder endpoints);
}

/// <summary>
/// Kestrel inside the daemon's own host, listening on Health:Url and Hmi:Url (each loopback by default, empty = off;
/// both empty = no server at all). Each endpoint answers only on its own listener's port, so opening the HMI to the
/// shop floor network does not open the unauthenticated health endpoints with it.
/// </summary>
internal static class WebServer
{
    /// <summary>
    /// Every request body here is a small JSON object (a login, a disposition with its 500-character comment); a larger
    /// one is refused with 413 before it is read, so no endpoint ever holds, logs or stores megabytes a client sent.
    /// </summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    /// <summary>Registers Kestrel; call before the Logging section is applied, so that it can turn Kestrel's logs up again.</summary>
    public static void Add(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Kestrel's and ASP.NET Core's own information logs (each request, each connection) are noise in a daemon's journal.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        services.AddRoutingCore();

        // The server is made when the host is built, before the options are validated (at start, which an invalid URL
        // never reaches): it reads the raw settings, and an unusable one means no listener there.
        builder.WebHost.UseKestrelCore();
        services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>((kestrel, configuration) =>
        {
            foreach (var listener in Listeners(configuration))
            {
                if (listener.Endpoint.Address is null) kestrel.ListenLocalhost(listener.Endpoint.Port);
                else kestrel.Listen(listener.Endpoint.Address, listener.Endpoint.Port);
            }
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        });
        var kestrel = services.Last(d => d.ServiceType == typeof(IServer));
        services.Remove(kestrel);
        services.AddSingleton<IServer>(sp =>
        {
            var listeners = Listeners(sp.GetRequiredService<IConfiguration>());
            return new ListeningServer(listeners.Count > 0 ? Create(sp, kestrel) : null, listeners, sp.GetRequiredService<ILogger<ListeningServer>>());
        });
        services.AddSingleton<IStartupFilter, Pipeline>();

        // WebApplication starts its server after every other hosted service. Started first instead, /healthz answers
        // while the model loads and the broker connects, and a port already in use stops start-up before either.
        builder.Host.ConfigureContainer<IServiceCollection>((_, all) =>
        {
            var daemon = all.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Assembly == typeof(WebServer).Assembly).ToList();
            foreach (var service in daemon)
            {
                all.Remove(service);
                all.Add(service);
            }
        });
    }

    /// <summary>The usable, enabled listeners of the raw configuration.</summary>
    public static IReadOnlyList<Listener> Listeners(IConfiguration configuration)
    {
        var listeners = new List<Listener>();
        foreach (var (key, fallback) in new[] { ($"{HealthOptions.Section}:{nameof(HealthOptions.Url)}", HealthOptions.DefaultUrl), ($"{HmiOptions.Section}:{nameof(HmiOptions.Url)}", HmiOptions.DefaultUrl) })
        {
            string url = configuration[key] ?? fallback;
            if (ListenUrl.TryParse(url, out var endpoint) && !listeners.Any(l => l.Endpoint.Port == endpoint.Port))
                listeners.Add(new Listener(key, url.Trim().TrimEnd('/'), endpoint));
        }
        return listeners;
    }

    private static IServer Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance as IServer
        ?? descriptor.ImplementationFactory?.Invoke(services) as IServer
        ?? (IServer)ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!);

    /// <summary>
    /// Routing, then the listener check, then (when the HMI registered them) authentication, authorization and rate
    /// limiting, then the endpoints. Built at start, which also creates every endpoint's services before the first frame.
    /// </summary>
    private sealed class Pipeline(IConfiguration configuration) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var listeners = Listeners(configuration);
            // First, so that everything after sees the browser's address and scheme; reads nothing unless Hmi:TrustedProxies is set.
            app.UseForwardedHeaders();
            app.UseRouting();
            app.Use((context, following) =>
            {
                var served = context.GetEndpoint()?.Metadata.GetMetadata<ServedOn>();
                if (served is not null && !listeners.Any(l => l.Key == served.Listener && l.Endpoint.Port == context.Connection.LocalPort))
                    context.SetEndpoint(null);
                return following(context);
            });
            if (app.ApplicationServices.GetService<IAuthenticationSchemeProvider>() is not null)
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.UseRateLimiter();
            }
            app.UseEndpoints(endpoints =>
            {
                foreach (var mapper in endpoints.ServiceProvider.GetServices<IWebEndpoints>())
                {
                    var group = endpoints.MapGroup("");
                    group.WithMetadata(new ServedOn(mapper.Listener));
                    mapper.Map(group);
                }
            });
            next(app);
        };
    }
}

/// <summary>A configured listener: its configuration key, URL and endpoint.</summary>
internal sealed record Listener(string Key, string Url, ListenEndpoint Endpoint);

/// <summary>Endpoint metadata: the listener (configuration key) the endpoint answers on.</summary>
internal sealed record ServedOn(string Listener);

/// <summary>
/// Kestrel on the configured listeners, or nothing at all when none is. A bind failure (the port in use, an address
/// this machine does not have) becomes a start-up error that names the setting.
/// </summary>
internal sealed class ListeningServer(IServer? kestrel, IReadOnlyList<Listener> listeners, ILogger<ListeningServer> logger) : IServer
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
            var culprit = listeners.FirstOrDefault(l => e.Message.Contains($":{l.Endpoint.Port}", StringComparison.Ordinal)) ?? listeners[0];
            throw new DaemonStartException(
                $"{culprit.Key} '{culprit.Url}': cannot listen there: {e.Message} Choose a free port (another process may have this one), or set {culprit.Key} empty to turn it off.", e);
        }
        foreach (var listener in listeners)
        {
            if (listener.Endpoint.IsLoopback)
                logger.LogInformation("{Setting}: listening on {Url} (this machine only)", listener.Key, listener.Url);
            else
                logger.LogWarning("{Setting}: listening on {Url}, reachable from other machines", listener.Key, listener.Url);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => kestrel?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose() => kestrel?.Dispose();
}
