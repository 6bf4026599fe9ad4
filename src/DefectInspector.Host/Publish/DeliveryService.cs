using DefectInspector.Host.Capture;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Publishes what the line stored in the outbox, and answers triggers. On stop it runs after the line has drained:
/// the trigger replies go out, then what the outbox holds is published for at most Pipeline:DeliveryDrainSeconds; the
/// rest waits in the outbox for the next start.
/// </summary>
internal sealed class DeliveryService(
    SqliteOutbox outbox, MqttPublisher publisher, TriggerDesk desk, PipelineLoops loops, IOptions<PipelineOptions> pipeline,
    IOptions<StorageOptions> storage, TimeProvider time, ILoggerFactory loggers) : IHostedService, IDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<DeliveryService>();
    private readonly CancellationTokenSource stop = new();
    private Task dispatchLoop = Task.CompletedTask;
    private Task triggerLoop = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellation)
    {
        triggerLoop = loops.Run("triggers", desk.RunAsync, stop.Token);
        dispatchLoop = loops.Run("delivery", new OutboxDispatcher(outbox, publisher, loggers.CreateLogger<OutboxDispatcher>(), time).RunAsync, stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        await loops.WaitAsync(triggerLoop, TimeSpan.FromSeconds(5), "trigger replies");
        await loops.WaitAsync(WhenDeliveredAsync(stop.Token), TimeSpan.FromSeconds(pipeline.Value.DeliveryDrainSeconds), "delivery");
        await stop.CancelAsync();
        await loops.WaitAsync(dispatchLoop, TimeSpan.FromSeconds(5), "delivery");
        long left = outbox.Depth;
        if (left > 0)
            logger.LogWarning("{Count} message(s) not acknowledged by the broker stay in the outbox {Path}; they are delivered after the next start", left, storage.Value.OutboxFile);
        else
            logger.LogInformation("Outbox empty: every stored message was acknowledged by the broker");
    }

    public void Dispose() => stop.Dispose();

    private async Task WhenDeliveredAsync(CancellationToken cancellation)
    {
        while (outbox.Depth > 0)
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellation);
    }
}
