using System.Threading.Channels;
using DefectInspector.Publish.Connection;
using DefectInspector.Publish.Sparkplug.Proto;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace DefectInspector.Publish.Sparkplug;

/// <summary>
/// A Sparkplug B 3.0 edge node: the station is the node, its cameras are the devices. On its own MQTT 5 connection
/// (clean start, NDEATH as the Last Will) it publishes NBIRTH and one DBIRTH per camera after every connect, DDATA for
/// each verdict and camera state change, and answers the Rebirth command and the <c>Trigger/Part Id</c> device command.
/// docs/sparkplug.md describes the wire side.
/// </summary>
/// <remarks>
/// While the broker is away, DDATA waits in memory (at most <see cref="HistoryCapacity"/> messages, the oldest dropped)
/// and goes out after the next births with <c>is_historical</c> set on its metrics. That memory dies with the process:
/// across a daemon restart the durable record is the JSON outbox of <see cref="MqttPublisher"/>, not Sparkplug.
/// Births and data go out with QoS 0, NDEATH (the Last Will, or published on stop) with QoS 1, none retained, as the
/// specification asks.
/// </remarks>
public sealed class SparkplugNode : IAsyncDisposable
{
    private const int New = 0, Started = 1, Stopped = 2;

    private readonly SparkplugTopics topics;
    private readonly IReadOnlyList<string> devices;
    private readonly IReadOnlyDictionary<string, string> nodeProperties;
    private readonly Func<string, SparkplugDeviceMetrics> currentMetrics;
    private readonly BdSeqFile bdSeqFile;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly MqttConnection connection;
    private readonly Lock gate = new();
    private readonly Queue<PendingData> pending = new();
    private readonly Channel<bool> work = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TaskCompletionSource firstBirth = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task sendLoop = Task.CompletedTask;
    private int state = New;
    private int disposed;

    // The connection's bdSeq (and the one its CONNECT is trying), and whether it is set up (subscribed) and owes
    // births: written by the connect path and the receive path, read by the send loop.
    private long bdSeq;
    private long connectingBdSeq;
    private volatile bool ready;
    private volatile bool birthNeeded;

    // Only the send loop touches these.
    private long seq;
    private bool everConnected;

    // Under gate: how many times the devices were born, and the DDATA dropped for want of room since the last report.
    private long births;
    private long dropped;

    // For the logs only: when the connection was lost or the devices last born.
    private DateTimeOffset lostAt;

    /// <param name="broker">The broker, TLS and credentials; the node opens its own connection with them.</param>
    /// <param name="groupId">The Sparkplug group id; no '/', '+' or '#'.</param>
    /// <param name="edgeNodeId">The edge node id; no '/', '+' or '#'.</param>
    /// <param name="clientId">The MQTT client id; must differ from the JSON publisher's (the station's id + "-sparkplug").</param>
    /// <param name="devices">The camera names, which become the device ids.</param>
    /// <param name="nodeProperties">String metrics of the NBIRTH, each as <c>Properties/&lt;key&gt;</c> (version, model name...).</param>
    /// <param name="currentMetrics">
    /// A camera's metrics now, for its DBIRTH; called from the node's own thread on every birth, so it must be thread-safe.
    /// </param>
    /// <param name="stateDirectory">Where the bdSeq survives restarts (file <c>sparkplug-bdseq</c>).</param>
    /// <param name="time">The clock of metric times, timeouts and backoff; the system's unless a test brings its own.</param>
    public SparkplugNode(MqttOptions broker, string groupId, string edgeNodeId, string clientId, IReadOnlyList<string> devices,
        IReadOnlyDictionary<string, string> nodeProperties, Func<string, SparkplugDeviceMetrics> currentMetrics, string stateDirectory, ILogger logger,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(nodeProperties);
        ArgumentNullException.ThrowIfNull(currentMetrics);
        ArgumentException.ThrowIfNullOrWhiteSpace(stateDirectory);
        ArgumentNullException.ThrowIfNull(logger);
        foreach (string device in devices)
        {
            SparkplugTopics.ValidId(device, "device id (camera name)");
        }

        if (devices.Distinct(StringComparer.Ordinal).Count() != devices.Count)
        {
            throw new ArgumentException("two cameras have the same name: Sparkplug device ids must be unique", nameof(devices));
        }

        topics = new SparkplugTopics(groupId, edgeNodeId);
        this.devices = [.. devices];
        this.nodeProperties = new Dictionary<string, string>(nodeProperties, StringComparer.Ordinal);
        this.currentMetrics = currentMetrics;
        bdSeqFile = new BdSeqFile(stateDirectory);
        this.logger = logger;
        this.time = time ?? TimeProvider.System;

        // Sparkplug B 3.0 on MQTT 5: clean start and no session, so commands sent while the node was away are not
        // replayed; the NDEATH Will with QoS 1 and not retained.
        var session = new MqttSession
        {
            Label = "Sparkplug",
            Will = will => will
                .WithWillTopic(topics.NodeDeath)
                .WithWillRetain(false)
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce),
            WillPayload = NextDeath,
            SetUpAsync = SetUpSessionAsync,
            WhileLost = "DDATA is held as history",
            WillName = "the NDEATH Will",
        };
        connection = new MqttConnection(broker, clientId.Trim(), session, logger, this.time);
        connection.Connected += OnConnected;
        connection.Lost += OnLost;
        connection.Client.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
    }

    /// <summary>host:port of the broker, for messages and health.</summary>
    public string Endpoint => connection.Endpoint;

    public string ClientId => connection.ClientId;

    /// <summary>True while connected, subscribed to commands and born (or about to be).</summary>
    public bool IsConnected => ready && connection.IsConnected;

    /// <summary>How many DDATA messages are held while disconnected before the oldest are dropped; 1 or more.</summary>
    public int HistoryCapacity
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(HistoryCapacity), value, "Sparkplug:HistoryCapacity must be 1 or more");
    } = 10_000;

    /// <summary>
    /// Raised for a DCMD that writes a part id to a camera's <c>Trigger/Part Id</c>, with the camera and the part id.
    /// Runs on the receive path, one at a time: keep it short. An exception from it is logged.
    /// </summary>
    public Func<string, string, Task>? TriggerReceived { get; set; }

    /// <summary>Backoff and timeouts of the connection; tests shorten them.</summary>
    internal MqttConnectionTiming Timing
    {
        get => connection.Timing;
        init => connection.Timing = value;
    }

    /// <summary>
    /// Connects and publishes the births, then returns. Tries a few times, then throws
    /// <see cref="MqttConnectException"/> naming host:port and the reason, but goes on reconnecting in the background
    /// all the same (a caller that can live without Sparkplug for a while carries on). Every connect, this first one
    /// included, takes the next bdSeq, and is followed by NBIRTH, the DBIRTHs and whatever DDATA waited.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        if (Interlocked.CompareExchange(ref state, Started, New) != New)
        {
            throw new InvalidOperationException("the Sparkplug node was already started (or stopped): make a new one");
        }

        var stopping = connection.Stopping;
        sendLoop = Task.Run(() => RunSendLoopAsync(stopping), CancellationToken.None);
        await connection.StartAsync(cancellation).ConfigureAwait(false);

        // The births follow on the send loop; a connection lost meanwhile births again on reconnect, so don't wait forever.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, stopping);
        await Task.WhenAny(firstBirth.Task, Task.Delay(Timing.ConnectTimeout, time, linked.Token)).ConfigureAwait(false);
    }

    /// <summary>
    /// A camera decided a verdict: DDATA with its counters and last-verdict metrics, stamped <paramref name="decidedAt"/>.
    /// Sent at once when connected, otherwise held and sent as historical data after the next births. Never blocks.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="device"/> is not one of the node's devices.</exception>
    public void Decided(string device, SparkplugDeviceMetrics metrics, DateTimeOffset decidedAt)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Enqueue(device, SparkplugPayloads.VerdictMetrics(metrics, decidedAt), decidedAt);
    }

    /// <summary>A camera's state or rate changed: DDATA with <c>Camera/State</c> and <c>Camera/Fps</c>, stamped now. Never blocks.</summary>
    /// <exception cref="ArgumentException"><paramref name="device"/> is not one of the node's devices.</exception>
    public void StateChanged(string device, SparkplugDeviceMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var now = time.GetUtcNow();
        Enqueue(device, SparkplugPayloads.StateMetrics(metrics, now), now);
    }

    /// <summary>
    /// Publishes NDEATH with the connection's bdSeq and disconnects normally, so the broker discards the Last Will.
    /// DDATA still held is dropped (docs/sparkplug.md: not durable).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellation)
    {
        if (Interlocked.Exchange(ref state, Stopped) != Started)
        {
            return;
        }

        // The send loop ends first, so that nothing follows the NDEATH.
        await connection.StopReconnectingAsync().ConfigureAwait(false);
        await sendLoop.ConfigureAwait(false);
        long bdSeq = Interlocked.Read(ref this.bdSeq);
        if (await connection.CloseAsync(PublishDeathAsync, cancellation).ConfigureAwait(false) == MqttClose.Clean)
        {
            logger.LogInformation("Sparkplug edge node {GroupId}/{EdgeNodeId} stopped: NDEATH bdSeq {BdSeq} published", topics.GroupId, topics.EdgeNodeId, bdSeq);
        }

        // QoS 1 here, unlike the other messages: the broker must have it before the normal disconnect drops the Will.
        Task PublishDeathAsync(CancellationToken timeout) =>
            connection.Client.PublishAsync(Message(topics.NodeDeath, SparkplugPayloads.NodeDeath(bdSeq), MqttQualityOfServiceLevel.AtLeastOnce), timeout);
    }

    /// <summary><see cref="StopAsync"/> (bounded by the connect timeout), then releases the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        using (var timeout = new CancellationTokenSource(Timing.ConnectTimeout, time))
        {
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }

        Interlocked.Exchange(ref state, Stopped);
        await connection.StopReconnectingAsync().ConfigureAwait(false);
        await sendLoop.ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private void Enqueue(string device, IEnumerable<Payload.Types.Metric> metrics, DateTimeOffset at)
    {
        if (!devices.Contains(device, StringComparer.Ordinal))
        {
            throw new ArgumentException($"\"{device}\" is not one of this Sparkplug node's devices ({string.Join(", ", devices)})", nameof(device));
        }

        lock (gate)
        {
            if (pending.Count >= HistoryCapacity)
            {
                pending.Dequeue();
                if (dropped++ == 0)
                {
                    logger.LogWarning("Sparkplug history is full ({Capacity} DDATA held while disconnected): dropping the oldest", HistoryCapacity);
                }
            }

            pending.Enqueue(new PendingData(device, births, [.. metrics], at));
        }

        work.Writer.TryWrite(true);
    }

    /// <summary>
    /// The Will of the next CONNECT, with the next bdSeq: taken (and saved) for every CONNECT, answered or not, since
    /// the specification counts CONNECT packets, and a number is never reused even when the process dies right after.
    /// </summary>
    private byte[] NextDeath()
    {
        long bdSeq = bdSeqFile.Next();
        Interlocked.Exchange(ref connectingBdSeq, bdSeq);
        return SparkplugPayloads.NodeDeath(bdSeq);
    }

    /// <summary>After every CONNACK: the connection's bdSeq, then the command subscriptions; the send loop births.</summary>
    private async Task SetUpSessionAsync(CancellationToken cancellation)
    {
        Interlocked.Exchange(ref bdSeq, Interlocked.Read(ref connectingBdSeq));

        // Subscribed before NBIRTH (the specification's order): a host that answers a birth with a command is heard.
        var subscribe = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(topics.NodeCommand).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(topics.DeviceCommands).WithAtLeastOnceQoS())
            .Build();
        var subscribed = await connection.Client.SubscribeAsync(subscribe, cancellation).ConfigureAwait(false);
        foreach (var item in subscribed.Items.Where(i => i.ResultCode is not (MqttClientSubscribeResultCode.GrantedQoS0 or MqttClientSubscribeResultCode.GrantedQoS1)))
        {
            logger.LogError("The MQTT broker refused the Sparkplug command subscription {Filter}: {ResultCode}", item.TopicFilter.Topic, item.ResultCode);
        }
    }

    private void OnConnected(MqttConnected connected)
    {
        birthNeeded = true;
        ready = true;
        work.Writer.TryWrite(true);
    }

    private void OnLost(string reason)
    {
        ready = false;
        lostAt = time.GetUtcNow();
    }

    /// <summary>
    /// The one writer of the node's messages, so that seq counts them without gaps: births when a connection (or a
    /// Rebirth command) asks for them, then the held DDATA in order.
    /// </summary>
    private async Task RunSendLoopAsync(CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                await work.Reader.ReadAsync(stopping).ConfigureAwait(false);
                await SendAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (MqttFailures.IsConnectionProblem(e))
            {
                // What was not sent stays held; the reconnect births again and sends it as history.
                logger.LogDebug("Sparkplug publish to {Endpoint} failed: {Reason}; waiting for the connection", Endpoint, MqttFailures.Describe(e));
            }
            catch (Exception e)
            {
                logger.LogError(e, "The Sparkplug send loop failed; the node births again on the next connect or Rebirth command");
            }
        }
    }

    private async Task SendAsync(CancellationToken stopping)
    {
        int historical = 0;
        while (!stopping.IsCancellationRequested && ready)
        {
            // Births first, also when a new connection or a Rebirth command asks for them in the middle of the held data.
            if (birthNeeded)
            {
                birthNeeded = false;
                try
                {
                    await PublishBirthsAsync().ConfigureAwait(false);
                }
                catch
                {
                    birthNeeded = true;
                    throw;
                }

                continue;
            }

            PendingData item;
            long births;
            lock (gate)
            {
                if (!pending.TryPeek(out item!))
                {
                    break;
                }

                births = this.births;
            }

            // Produced before the latest DBIRTH, which already carried newer values: history, not the present.
            if (item.Births != births)
            {
                foreach (var metric in item.Metrics)
                {
                    metric.IsHistorical = true;
                }

                historical++;
            }

            await PublishAsync(topics.DeviceData(item.Device), SparkplugPayloads.DeviceData(item.Metrics, NextSeq(), item.At)).ConfigureAwait(false);
            lock (gate)
            {
                pending.Dequeue();
            }
        }

        if (historical > 0)
        {
            long dropped;
            lock (gate)
            {
                dropped = this.dropped;
                this.dropped = 0;
            }

            logger.LogInformation("Sparkplug sent {Count} DDATA held while disconnected as historical data ({Dropped} older ones were dropped)",
                historical, dropped);
        }
    }

    private async Task PublishBirthsAsync()
    {
        long bdSeq = Interlocked.Read(ref this.bdSeq);
        var now = time.GetUtcNow();
        lock (gate)
        {
            births++;
        }

        seq = 0;
        await PublishAsync(topics.NodeBirth, SparkplugPayloads.NodeBirth(bdSeq, nodeProperties, now)).ConfigureAwait(false);
        foreach (string device in devices)
        {
            await PublishAsync(topics.DeviceBirth(device), SparkplugPayloads.DeviceBirth(currentMetrics(device), NextSeq(), now)).ConfigureAwait(false);
        }

        if (everConnected)
        {
            logger.LogInformation("Sparkplug births published again (bdSeq {BdSeq}, {Devices} devices) after {Downtime:0.0} s",
                bdSeq, devices.Count, (now - lostAt).TotalSeconds);
        }
        else
        {
            logger.LogInformation("Sparkplug edge node {GroupId}/{EdgeNodeId} born on {Endpoint} as {ClientId} (bdSeq {BdSeq}, {Devices} devices)",
                topics.GroupId, topics.EdgeNodeId, Endpoint, ClientId, bdSeq, devices.Count);
        }

        everConnected = true;
        lostAt = now;
        firstBirth.TrySetResult();
    }

    private async Task PublishAsync(string topic, byte[] payload)
    {
        using var timeout = new CancellationTokenSource(Timing.ConnectTimeout, time);
        await connection.Client.PublishAsync(Message(topic, payload, MqttQualityOfServiceLevel.AtMostOnce), timeout.Token).ConfigureAwait(false);
    }

    private long NextSeq() => seq = (seq + 1) % 256;

    private async Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        string topic = e.ApplicationMessage.Topic;
        string? device = topics.CommandedDevice(topic);
        if (topic != topics.NodeCommand && device is null)
        {
            return;
        }

        Payload payload;
        try
        {
            payload = Payload.Parser.ParseFrom(e.ApplicationMessage.Payload);
        }
        catch (InvalidProtocolBufferException bad)
        {
            logger.LogWarning("Ignored a Sparkplug command on {Topic}: not a Sparkplug B payload ({Problem})", topic, bad.Message);
            return;
        }

        if (device is null)
        {
            OnNodeCommand(payload);
        }
        else
        {
            await OnDeviceCommandAsync(device, payload).ConfigureAwait(false);
        }
    }

    private void OnNodeCommand(Payload payload)
    {
        foreach (var metric in payload.Metrics)
        {
            if (metric.Name == SparkplugPayloads.Rebirth && metric.ValueCase == Payload.Types.Metric.ValueOneofCase.BooleanValue && metric.BooleanValue)
            {
                logger.LogInformation("Sparkplug Rebirth requested: publishing NBIRTH and DBIRTHs again");
                birthNeeded = true;
                work.Writer.TryWrite(true);
            }
            else
            {
                logger.LogWarning("Ignored the Sparkplug node command metric {Metric}: only {Rebirth} = true is understood", metric.Name, SparkplugPayloads.Rebirth);
            }
        }
    }

    private async Task OnDeviceCommandAsync(string device, Payload payload)
    {
        if (!devices.Contains(device, StringComparer.Ordinal))
        {
            logger.LogWarning("Ignored a Sparkplug command to {Device}: no such device on this node", device);
            return;
        }

        foreach (var metric in payload.Metrics)
        {
            if (metric.Name != SparkplugPayloads.TriggerPartId || metric.ValueCase != Payload.Types.Metric.ValueOneofCase.StringValue
                || string.IsNullOrWhiteSpace(metric.StringValue))
            {
                logger.LogWarning("Ignored the Sparkplug command metric {Metric} to {Device}: only {Trigger} with a part id is understood",
                    metric.Name, device, SparkplugPayloads.TriggerPartId);
                continue;
            }

            if (TriggerReceived is not { } handler)
            {
                logger.LogWarning("Ignored a Sparkplug trigger of {Device} for part {PartId}: nothing handles triggers", device, metric.StringValue);
                continue;
            }

            try
            {
                await handler(device, metric.StringValue).ConfigureAwait(false);
            }
            catch (Exception failure)
            {
                logger.LogError(failure, "The Sparkplug trigger handler failed for camera {Device}, part {PartId}", device, metric.StringValue);
            }
        }
    }

    private static MqttApplicationMessage Message(string topic, byte[] payload, MqttQualityOfServiceLevel qos) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).WithRetainFlag(false).Build();

    /// <summary>A DDATA waiting to be sent, and how many births had happened when it was made.</summary>
    private sealed record PendingData(string Device, long Births, IReadOnlyList<Payload.Types.Metric> Metrics, DateTimeOffset At);
}
