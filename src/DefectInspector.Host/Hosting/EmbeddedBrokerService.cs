using DefectInspector.Publish;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>With Mqtt:Host empty, runs the embedded MQTT broker so the product works with nothing else installed.</summary>
internal sealed class EmbeddedBrokerService(IOptions<MqttOptions> options, ILogger<EmbeddedBrokerService> logger) : IHostedService, IAsyncDisposable
{
    private EmbeddedBroker? broker;

    public async Task StartAsync(CancellationToken cancellation)
    {
        var o = options.Value;
        if (!o.UsesEmbeddedBroker) return;
        broker = await EmbeddedBroker.StartAsync(o.EmbeddedBindAddress, o.Port, NullIfEmpty(o.Username), MqttCredentials.Password(o), logger);
    }

    // The pipeline stops first (reverse start order) and publishes its offline status through this broker.
    public async Task StopAsync(CancellationToken cancellation)
    {
        if (broker is not null) await broker.DisposeAsync();
        broker = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (broker is not null) await broker.DisposeAsync();
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
