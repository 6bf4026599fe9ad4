using DefectInspector.Host.Hosting;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Hmi;

/// <summary>Passes what happens elsewhere in the daemon to open HMI pages: camera states, the broker, the queue, and frames per second.</summary>
internal sealed class HmiFeedService(LiveFeed feed, CameraStatusBoard cameras, MqttPublisher broker, ReviewStore reviews, PipelineStats stats) : StoppableService
{
    private static readonly TimeSpan StatsInterval = TimeSpan.FromSeconds(2);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        cameras.Changed += OnCamera;
        broker.ConnectionChanged += OnBroker;
        reviews.Changed += OnReview;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        cameras.Changed -= OnCamera;
        broker.ConnectionChanged -= OnBroker;
        reviews.Changed -= OnReview;
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Frames per second over the last interval (the stats topic's rate is since start, which hides a stopped camera).</summary>
    protected override async Task RunAsync(CancellationToken stopping)
    {
        var before = Decided(stats.Snapshot());
        using var timer = new PeriodicTimer(StatsInterval);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            var now = Decided(stats.Snapshot());
            var fps = now.ToDictionary(kv => kv.Key, kv => Math.Round((kv.Value - before.GetValueOrDefault(kv.Key)) / StatsInterval.TotalSeconds, 1));
            before = now;
            feed.Post("stats", new StatsEvent(fps, broker.IsConnected, reviews.QueueLength), HmiJson.Default.StatsEvent);
        }
    }

    private static Dictionary<string, long> Decided(StatsMessage snapshot) =>
        snapshot.Cameras.ToDictionary(kv => kv.Key, kv => kv.Value.Ok + kv.Value.Ng + kv.Value.Uncertain);

    private void OnCamera(CameraStatusMessage status) => feed.Post("camera", status, HmiJson.Default.CameraStatusMessage);

    private void OnBroker(MqttConnectionChange change) =>
        feed.Post("stats", new StatsEvent(new Dictionary<string, double>(), change.IsConnected, reviews.QueueLength), HmiJson.Default.StatsEvent);

    private void OnReview(ReviewChange change) =>
        feed.Post("queue", new QueueEvent(change.Kind, change.PartId, reviews.QueueLength), HmiJson.Default.QueueEvent);
}
