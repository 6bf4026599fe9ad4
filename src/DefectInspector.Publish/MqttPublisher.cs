using System.Collections.Concurrent;
using DefectInspector.Publish.Connection;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Triggers;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace DefectInspector.Publish;

/// <summary>A change of the publisher's connection: for health checks and the station status.</summary>
public sealed record MqttConnectionChange(bool IsConnected, string Endpoint, string Reason);

/// <summary>
/// The daemon's one MQTT 5 connection: publishes with QoS 1 and waits out broker outages without losing a message,
/// keeps the retained station status (online while connected, the Last Will <c>offline</c> when the connection dies,
/// an explicit <c>offline</c> on <see cref="StopAsync"/>) and receives trigger commands. docs/mqtt.md describes the
/// wire side; <see cref="MqttConnection"/> connects and reconnects.
/// </summary>
/// <remarks>
/// Sessions start clean: a trigger sent while the station was away is stale by the time it is back, and outgoing
/// messages survive an outage in <see cref="PublishAsync"/>'s retry, not in a broker session. Subscriptions and
/// retained messages are made again after every connect.
/// </remarks>
public sealed class MqttPublisher : IMessagePublisher, IAsyncDisposable
{
    private const int New = 0, Started = 1, Stopped = 2;

    // Gives a dead connection a moment to be noticed before a publish looks at the connected signal again.
    private static readonly TimeSpan NotAcknowledgedPause = TimeSpan.FromMilliseconds(100);

    private readonly MqttOptions options;
    private readonly Topics topics;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly MqttConnection connection;
    private readonly TriggerInbox triggers;
    private readonly Lock gate = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> topicOrder = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OutgoingMessage> retained = new(StringComparer.Ordinal);

    private TaskCompletionSource connected = NewSignal();
    private StatusMessage status;
    private int state = New;
    private int disposed;

    /// <param name="status">
    /// The station's status: its site, line and station name the client id, the Last Will and every status message;
    /// its other members (version, model, cameras) go into the online status. <see cref="SetStatus"/> replaces it.
    /// </param>
    /// <param name="time">The clock of status times, timeouts and backoff; the system's unless a test brings its own.</param>
    public MqttPublisher(MqttOptions options, Topics topics, StatusMessage status, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(logger);
        this.options = options;
        this.topics = topics;
        this.status = status;
        this.logger = logger;
        this.time = time ?? TimeProvider.System;
        var session = new MqttSession
        {
            Label = "MQTT",
            Will = will => will
                .WithWillTopic(topics.Status)
                .WithWillRetain(true)
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithWillContentType(MessageJson.ContentType)
                .WithWillPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData),
            WillPayload = LastWill,
            SetUpAsync = SetUpSessionAsync,
            WhileLost = "messages wait",
            WillName = "the Last Will",
            MaxIncomingPacketBytes = options.MaxIncomingPacketBytes,
        };
        connection = new MqttConnection(options, MqttIdentity.ClientId(options, status.Site, status.Line, status.Station), session, logger, this.time);
        connection.Connected += OnConnected;
        connection.Lost += OnLost;
        triggers = new TriggerInbox(connection.Client, topics, logger, this.time);
    }

    /// <summary>host:port of the broker, for messages and health.</summary>
    public string Endpoint => connection.Endpoint;

    public string ClientId => connection.ClientId;

    public bool IsConnected => connection.IsConnected;

    /// <summary>The status last given (its state is replaced by online/offline when published).</summary>
    public StatusMessage Status
    {
        get
        {
            lock (gate)
            {
                return status;
            }
        }
    }

    /// <summary>Raised on every connect and every loss of the connection (not on each failed attempt).</summary>
    public event Action<MqttConnectionChange>? ConnectionChanged;

    /// <summary>Backoff and timeouts of the connection; tests shorten them.</summary>
    internal MqttConnectionTiming Timing
    {
        get => connection.Timing;
        init => connection.Timing = value;
    }

    /// <summary>How long one publish waits for its PUBACK before it is sent again (the connection looks alive).</summary>
    private TimeSpan PublishAttemptTimeout => TimeSpan.FromSeconds(Math.Max(10, 2 * options.KeepAliveSeconds));

    /// <summary>
    /// Connects (MQTT 5, TLS and credentials as configured, Last Will = retained offline status), publishes the
    /// retained online status and subscribes to triggers if a handler is set. Tries a few times over a few seconds,
    /// then throws <see cref="MqttConnectException"/> naming host:port and the reason; it keeps reconnecting in the
    /// background all the same, so a caller that decides the failure is not fatal can go on publishing
    /// (<see cref="PublishAsync"/> waits). Bad settings (unreadable CA or password file) throw
    /// <see cref="InvalidOperationException"/> at once.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        if (Interlocked.CompareExchange(ref state, Started, New) != New)
        {
            throw new InvalidOperationException("the MQTT publisher was already started (or stopped): make a new one");
        }

        await connection.StartAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes with QoS 1 and completes when the broker's PUBACK arrives. While disconnected it waits for the
    /// reconnection and sends again (at least once: a message may arrive twice, consumers de-duplicate on its id);
    /// messages on one topic go out in call order. Only <paramref name="cancellation"/> or <see cref="StopAsync"/> end
    /// the wait. A PUBACK with a failure reason code throws <see cref="MqttPublishRejectedException"/>.
    /// </summary>
    public async Task PublishAsync(OutgoingMessage message, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Volatile.Read(ref state) == New)
        {
            throw new InvalidOperationException("StartAsync the MQTT publisher before publishing");
        }

        var applicationMessage = MqttMessages.From(message);
        var order = topicOrder.GetOrAdd(message.Topic, _ => new SemaphoreSlim(1, 1));
        await order.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await PublishUntilAcknowledgedAsync(applicationMessage, cancellation).ConfigureAwait(false);
        }
        finally
        {
            order.Release();
        }
    }

    /// <summary>Replaces the status that is published as online after every (re)connect.</summary>
    public void SetStatus(StatusMessage status)
    {
        ArgumentNullException.ThrowIfNull(status);
        lock (gate)
        {
            this.status = status;
        }
    }

    /// <summary><see cref="SetStatus"/>, then publishes it now when connected (otherwise the next connect does).</summary>
    public async Task PublishStatusAsync(StatusMessage status, CancellationToken cancellation)
    {
        SetStatus(status);
        if (IsConnected)
        {
            await PublishAsync(OutgoingMessages.Status(topics, CurrentStatus(StationStates.Online)), cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes <paramref name="message"/> (retained) now when connected, and again after every reconnect, so a broker
    /// that lost its retained messages gets it back. A later message on the same topic replaces it.
    /// </summary>
    public async Task PublishRetainedAsync(OutgoingMessage message, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(message);
        retained[message.Topic] = message with { Retain = true };
        if (IsConnected)
        {
            await PublishAsync(message with { Retain = true }, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Answers a trigger on the response topic it named, with its correlation data; waits for the broker like
    /// <see cref="PublishAsync"/>. A request without a response topic gets no reply.
    /// </summary>
    public async Task ReplyAsync(TriggerRequest request, TriggerReply reply, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reply);
        if (string.IsNullOrEmpty(request.ResponseTopic))
        {
            return;
        }

        await PublishUntilAcknowledgedAsync(TriggerInbox.Reply(request, reply), cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes (QoS 1) to <c>trigger/+</c> now if connected and after every reconnect. The handler gets every
    /// message as a <see cref="TriggerRequest"/>, a malformed one with its problem (so that it can be answered); an
    /// exception from the handler is logged. Handlers run one at a time on the receive path: keep them short.
    /// Retained trigger messages are not delivered (a stale trigger must not fire on connect).
    /// </summary>
    public async Task SubscribeTriggersAsync(Func<TriggerRequest, Task> handler, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(handler);
        triggers.SetHandler(handler);
        if (IsConnected)
        {
            await triggers.SubscribeAsync(cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes the retained offline status and disconnects normally, so the broker discards the Last Will. Publishes
    /// still waiting end with <see cref="InvalidOperationException"/>: drain them first.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellation)
    {
        if (Interlocked.Exchange(ref state, Stopped) != Started)
        {
            return;
        }

        var closed = await connection.CloseAsync(PublishOfflineAsync, cancellation).ConfigureAwait(false);
        if (closed == MqttClose.NotConnected)
        {
            return;
        }

        if (closed == MqttClose.Clean)
        {
            logger.LogInformation("Disconnected from the MQTT broker at {Endpoint}", Endpoint);
        }

        RaiseConnectionChanged(false, "stopped");
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
        await connection.DisposeAsync().ConfigureAwait(false);
        foreach (var order in topicOrder.Values)
        {
            order.Dispose();
        }
    }

    /// <summary>
    /// The identity and when this connection was opened; version and model are left out (the will is fixed at connect
    /// time and must not claim more than is known).
    /// </summary>
    private byte[] LastWill()
    {
        var status = Status;
        return MessageJson.Serialize(new StatusMessage
        {
            State = StationStates.Offline,
            Site = status.Site,
            Line = status.Line,
            Station = status.Station,
            At = time.GetUtcNow(),
        });
    }

    /// <summary>After every connect: the retained online status, the other retained messages, the trigger subscription.</summary>
    private async Task SetUpSessionAsync(CancellationToken cancellation)
    {
        var online = MqttMessages.From(OutgoingMessages.Status(topics, CurrentStatus(StationStates.Online)));
        var result = await connection.Client.PublishAsync(online, cancellation).ConfigureAwait(false);
        if (!MqttMessages.IsAccepted(result.ReasonCode))
        {
            logger.LogError("The MQTT broker rejected the online status on {Topic}: {ReasonCode}", topics.Status, result.ReasonCode);
        }

        foreach (var retained in retained.Values)
        {
            var stored = await connection.Client.PublishAsync(MqttMessages.From(retained), cancellation).ConfigureAwait(false);
            if (!MqttMessages.IsAccepted(stored.ReasonCode))
            {
                logger.LogError("The MQTT broker rejected the retained message on {Topic}: {ReasonCode}", retained.Topic, stored.ReasonCode);
            }
        }

        if (triggers.HasHandler)
        {
            await triggers.SubscribeAsync(cancellation).ConfigureAwait(false);
        }
    }

    private async Task PublishOfflineAsync(CancellationToken cancellation)
    {
        var offline = MqttMessages.From(OutgoingMessages.Status(topics, CurrentStatus(StationStates.Offline)));
        var result = await connection.Client.PublishAsync(offline, cancellation).ConfigureAwait(false);
        if (!MqttMessages.IsAccepted(result.ReasonCode))
        {
            logger.LogError("The MQTT broker rejected the offline status on {Topic}: {ReasonCode}", topics.Status, result.ReasonCode);
        }
    }

    private void OnConnected(MqttConnected connected)
    {
        lock (gate)
        {
            this.connected.TrySetResult();
        }

        if (connected.Reconnected)
        {
            logger.LogInformation("MQTT connection to {Endpoint} restored after {Downtime:0.0} s", Endpoint, connected.Downtime.TotalSeconds);
        }
        else
        {
            logger.LogInformation("Connected to the MQTT broker at {Endpoint} as {ClientId}", Endpoint, ClientId);
        }

        RaiseConnectionChanged(true, connected.Reconnected ? "reconnected" : "connected");
    }

    private void OnLost(string reason)
    {
        lock (gate)
        {
            if (connected.Task.IsCompleted)
            {
                connected = NewSignal();
            }
        }

        RaiseConnectionChanged(false, reason);
    }

    private async Task PublishUntilAcknowledgedAsync(MqttApplicationMessage message, CancellationToken cancellation)
    {
        var stopping = connection.Stopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, stopping);
        while (true)
        {
            MqttClientPublishResult result;
            try
            {
                // Checked first: after a stop the connected signal may still stand from the last connection.
                linked.Token.ThrowIfCancellationRequested();
                Task connected;
                lock (gate)
                {
                    connected = this.connected.Task;
                }

                await connected.WaitAsync(linked.Token).ConfigureAwait(false);
                using var timer = new CancellationTokenSource(PublishAttemptTimeout, time);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(linked.Token, timer.Token);
                result = await connection.Client.PublishAsync(message, attempt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested && !cancellation.IsCancellationRequested)
            {
                throw new InvalidOperationException($"the MQTT publisher stopped before the message on {message.Topic} was acknowledged");
            }
            catch (Exception e) when (!linked.IsCancellationRequested && (MqttFailures.IsConnectionProblem(e) || !connection.IsConnected))
            {
                logger.LogDebug("Publish on {Topic} not acknowledged ({Reason}); sending again once connected", message.Topic, MqttFailures.Describe(e));
                await Task.Delay(NotAcknowledgedPause, time, linked.Token).ConfigureAwait(false);
                continue;
            }

            if (MqttMessages.IsAccepted(result.ReasonCode))
            {
                return;
            }

            logger.LogError("The MQTT broker rejected the message on {Topic}: {ReasonCode} {ReasonString}", message.Topic, result.ReasonCode, result.ReasonString);
            throw new MqttPublishRejectedException(message.Topic, result.ReasonCode, result.ReasonString);
        }
    }

    private StatusMessage CurrentStatus(string state) => Status with { State = state, At = time.GetUtcNow() };

    private void RaiseConnectionChanged(bool connected, string reason)
    {
        try
        {
            ConnectionChanged?.Invoke(new MqttConnectionChange(connected, Endpoint, reason));
        }
        catch (Exception e)
        {
            logger.LogError(e, "A ConnectionChanged handler failed");
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
