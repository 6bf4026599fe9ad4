using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;

namespace DefectInspector.Publish;

/// <summary>A change of the publisher's connection: for health checks and the station status.</summary>
public sealed record MqttConnectionChange(bool IsConnected, string Endpoint, string Reason);

/// <summary>
/// The daemon's one MQTT 5 connection: publishes with QoS 1 and waits out broker outages without losing a message,
/// keeps the retained station status (online while connected, the Last Will <c>offline</c> when the connection dies,
/// an explicit <c>offline</c> on <see cref="StopAsync"/>) and receives trigger commands. docs/mqtt.md describes the
/// wire side.
/// </summary>
/// <remarks>
/// Sessions start clean (clean start, session expiry 0): a trigger sent while the station was away is stale by the time
/// it is back, so the broker should not queue it, and outgoing messages survive an outage in <see cref="PublishAsync"/>'s
/// retry, not in a broker session. Subscriptions are made again after every connect.
/// </remarks>
public sealed class MqttPublisher : IMessagePublisher, IAsyncDisposable
{
    private const int New = 0, Started = 1, Stopped = 2;

    private readonly MqttOptions _options;
    private readonly Topics _topics;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _reconnectNeeded = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _topicOrder = new(StringComparer.Ordinal);
    private readonly string _host;

    private TaskCompletionSource _connected = NewSignal();
    private StatusMessage _status;
    private readonly ConcurrentDictionary<string, OutgoingMessage> _retained = new(StringComparer.Ordinal);
    private Func<TriggerRequest, Task>? _triggerHandler;
    private MqttClientOptions? _clientOptions;
    private Task _reconnectLoop = Task.CompletedTask;
    private int _state = New;
    private int _disposed;
    private bool _everConnected;
    private string? _lastFailure;
    private DateTimeOffset _lostAt;

    /// <param name="status">
    /// The station's status: its site, line and station name the client id, the Last Will and every status message;
    /// its other members (version, model, cameras) go into the online status. <see cref="SetStatus"/> replaces it.
    /// </param>
    public MqttPublisher(MqttOptions options, Topics topics, StatusMessage status, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.KeepAliveSeconds is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentException($"Mqtt:KeepAliveSeconds must be 1 to {ushort.MaxValue}, not {options.KeepAliveSeconds}", nameof(options));
        }

        if (options.Port is < 1 or > 65535)
        {
            throw new ArgumentException($"Mqtt:Port must be 1 to 65535, not {options.Port}", nameof(options));
        }

        _options = options;
        _topics = topics;
        _status = status;
        _logger = logger;
        _host = MqttIdentity.BrokerHost(options);
        Endpoint = _host.Contains(':') ? $"[{_host}]:{options.Port}" : $"{_host}:{options.Port}";
        ClientId = MqttIdentity.ClientId(options, status.Site, status.Line, status.Station);

        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _client.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
    }

    /// <summary>host:port of the broker, for messages and health.</summary>
    public string Endpoint { get; }

    public string ClientId { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>The status last given (its state is replaced by online/offline when published).</summary>
    public StatusMessage Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>Raised on every connect and every loss of the connection (not on each failed attempt).</summary>
    public event Action<MqttConnectionChange>? ConnectionChanged;

    /// <summary>First delay of the reconnect backoff (exponential with jitter).</summary>
    internal TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(0.5);

    internal TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times <see cref="StartAsync"/> tries before it throws.</summary>
    internal int FirstConnectAttempts { get; init; } = 3;

    internal TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one publish waits for its PUBACK before it is sent again (the connection looks alive).</summary>
    private TimeSpan PublishAttemptTimeout => TimeSpan.FromSeconds(Math.Max(10, 2 * _options.KeepAliveSeconds));

    /// <summary>
    /// Connects (MQTT 5, TLS and credentials as configured, Last Will = retained offline status), publishes the
    /// retained online status and subscribes to triggers if a handler is set. Tries <see cref="FirstConnectAttempts"/>
    /// times over a few seconds, then throws <see cref="MqttConnectException"/> naming host:port and the reason; it
    /// keeps reconnecting in the background all the same, so a caller that decides the failure is not fatal can go on
    /// publishing (<see cref="PublishAsync"/> waits). Bad settings (unreadable CA or password file) throw
    /// <see cref="InvalidOperationException"/> at once.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        if (Interlocked.CompareExchange(ref _state, Started, New) != New)
        {
            throw new InvalidOperationException("the MQTT publisher was already started (or stopped): make a new one");
        }

        _clientOptions = BuildClientOptions();
        _reconnectLoop = Task.Run(() => RunReconnectLoopAsync(_stopping.Token), CancellationToken.None);

        var firstConnect = Backoff(Math.Max(1, FirstConnectAttempts - 1), jitter: false, (reason, attempt, _) =>
            _logger.LogDebug("MQTT connect to {Endpoint} failed (attempt {Attempt}): {Reason}", Endpoint, attempt + 1, reason));

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _stopping.Token);
        try
        {
            await firstConnect.ExecuteAsync(ConnectOnceAsync, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectFailure(e) && !linked.IsCancellationRequested)
        {
            string reason = Describe(e);
            _lastFailure = reason;
            _lostAt = DateTimeOffset.UtcNow;
            _logger.LogWarning("Cannot connect to the MQTT broker at {Endpoint}: {Reason}; retrying in the background", Endpoint, reason);
            _reconnectNeeded.Release();
            throw new MqttConnectException(Endpoint, reason, e);
        }
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
        if (Volatile.Read(ref _state) == New)
        {
            throw new InvalidOperationException("StartAsync the MQTT publisher before publishing");
        }

        var applicationMessage = ToApplicationMessage(message);
        var order = _topicOrder.GetOrAdd(message.Topic, _ => new SemaphoreSlim(1, 1));
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
        lock (_gate)
        {
            _status = status;
        }
    }

    /// <summary><see cref="SetStatus"/>, then publishes it now when connected (otherwise the next connect does).</summary>
    public async Task PublishStatusAsync(StatusMessage status, CancellationToken cancellation)
    {
        SetStatus(status);
        if (IsConnected)
        {
            await PublishAsync(OutgoingMessages.Status(_topics, CurrentStatus(StationStates.Online)), cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes <paramref name="message"/> (retained) now when connected, and again after every reconnect, so a broker
    /// that lost its retained messages gets it back. A later message on the same topic replaces it.
    /// </summary>
    public async Task PublishRetainedAsync(OutgoingMessage message, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(message);
        _retained[message.Topic] = message with { Retain = true };
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

        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(request.ResponseTopic)
            .WithPayload(MessageJson.Serialize(reply))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType(MessageJson.ContentType)
            .WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData)
            .WithUserProperty(SchemaVersion.UserProperty, new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(SchemaVersion.Of(ContractNames.TriggerReply))));
        if (!request.CorrelationData.IsEmpty)
        {
            builder.WithCorrelationData(request.CorrelationData.ToArray());
        }

        await PublishUntilAcknowledgedAsync(builder.Build(), cancellation).ConfigureAwait(false);
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
        Volatile.Write(ref _triggerHandler, handler);
        if (IsConnected)
        {
            await SubscribeTriggersCoreAsync(cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes the retained offline status and disconnects normally, so the broker discards the Last Will. Publishes
    /// still waiting end with <see cref="InvalidOperationException"/>: drain them first.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellation)
    {
        if (Interlocked.Exchange(ref _state, Stopped) != Started)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _reconnectLoop.ConfigureAwait(false);
        if (!_client.IsConnected)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(ConnectTimeout);
            var offline = ToApplicationMessage(OutgoingMessages.Status(_topics, CurrentStatus(StationStates.Offline)));
            var result = await _client.PublishAsync(offline, timeout.Token).ConfigureAwait(false);
            if (!IsAccepted(result.ReasonCode))
            {
                _logger.LogError("The MQTT broker rejected the offline status on {Topic}: {ReasonCode}", _topics.Status, result.ReasonCode);
            }

            var disconnect = new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build();
            await _client.DisconnectAsync(disconnect, timeout.Token).ConfigureAwait(false);
            _logger.LogInformation("Disconnected from the MQTT broker at {Endpoint}", Endpoint);
        }
        catch (Exception e) when (IsConnectionProblem(e))
        {
            _logger.LogWarning("Could not close the MQTT connection to {Endpoint} cleanly (the broker sends the Last Will): {Reason}", Endpoint, Describe(e));
        }

        RaiseConnectionChanged(false, "stopped");
    }

    /// <summary><see cref="StopAsync"/> (bounded by the connect timeout), then releases the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using (var timeout = new CancellationTokenSource(ConnectTimeout))
        {
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _state, Stopped);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _reconnectLoop.ConfigureAwait(false);
        _client.Dispose();
        _stopping.Dispose();
        _reconnectNeeded.Dispose();
        foreach (var order in _topicOrder.Values)
        {
            order.Dispose();
        }
    }

    private MqttClientOptions BuildClientOptions()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_host, _options.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(ClientId)
            .WithCleanStart(true)
            .WithSessionExpiryInterval(0)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(_options.KeepAliveSeconds))
            .WithTimeout(ConnectTimeout)
            .WithWillTopic(_topics.Status)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithWillContentType(MessageJson.ContentType)
            .WithWillPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData);

        if (!string.IsNullOrEmpty(_options.Username))
        {
            builder.WithCredentials(_options.Username, MqttCredentials.Password(_options) ?? "");
        }

        if (_options.UseTls)
        {
            builder.WithTlsOptions(MqttCredentials.Tls(_options, _host));
        }

        var options = builder.Build();
        // The broker must not hand this client a packet larger than this: a 100 MB "trigger" would otherwise be read
        // into memory whole before anyone looks at it.
        options.MaximumPacketSize = (uint)_options.MaxIncomingPacketBytes;
        return options;
    }

    /// <summary>One connection attempt and the session set-up: online status, trigger subscription.</summary>
    private async ValueTask ConnectOnceAsync(CancellationToken cancellation)
    {
        if (_client.IsConnected)
        {
            return;
        }

        var options = _clientOptions!;

        // The Last Will: the identity and when this connection was opened; version and model are left out (the will
        // is fixed at connect time and must not claim more than is known).
        options.WillPayload = MessageJson.Serialize(new StatusMessage
        {
            State = StationStates.Offline,
            Site = Status.Site,
            Line = Status.Line,
            Station = Status.Station,
            At = DateTimeOffset.UtcNow,
        });

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        attempt.CancelAfter(ConnectTimeout);
        try
        {
            var result = await _client.ConnectAsync(options, attempt.Token).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new BrokerRefusedException(result.ResultCode, result.ReasonString);
            }

            await SetUpSessionAsync(attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            await _client.TryDisconnectAsync(MqttClientDisconnectOptionsReason.UnspecifiedError, "connect timed out").ConfigureAwait(false);
            throw new TimeoutException($"the broker did not answer within {ConnectTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not BrokerRefusedException && !cancellation.IsCancellationRequested && _client.IsConnected)
        {
            // The connection failed during set-up: drop it so the next attempt starts over.
            await _client.TryDisconnectAsync(MqttClientDisconnectOptionsReason.UnspecifiedError, "session set-up failed").ConfigureAwait(false);
            throw;
        }

        MarkConnected();
    }

    /// <summary>After every connect: the retained online status, then the trigger subscription.</summary>
    private async Task SetUpSessionAsync(CancellationToken cancellation)
    {
        var online = ToApplicationMessage(OutgoingMessages.Status(_topics, CurrentStatus(StationStates.Online)));
        var result = await _client.PublishAsync(online, cancellation).ConfigureAwait(false);
        if (!IsAccepted(result.ReasonCode))
        {
            _logger.LogError("The MQTT broker rejected the online status on {Topic}: {ReasonCode}", _topics.Status, result.ReasonCode);
        }

        foreach (var retained in _retained.Values)
        {
            var stored = await _client.PublishAsync(ToApplicationMessage(retained), cancellation).ConfigureAwait(false);
            if (!IsAccepted(stored.ReasonCode))
            {
                _logger.LogError("The MQTT broker rejected the retained message on {Topic}: {ReasonCode}", retained.Topic, stored.ReasonCode);
            }
        }

        if (Volatile.Read(ref _triggerHandler) is not null)
        {
            await SubscribeTriggersCoreAsync(cancellation).ConfigureAwait(false);
        }
    }

    private void MarkConnected()
    {
        TimeSpan downtime = DateTimeOffset.UtcNow - _lostAt;
        bool reconnect = _everConnected;
        _everConnected = true;
        _lastFailure = null;
        lock (_gate)
        {
            _connected.TrySetResult();
        }

        if (reconnect)
        {
            _logger.LogInformation("MQTT connection to {Endpoint} restored after {Downtime:0.0} s", Endpoint, downtime.TotalSeconds);
        }
        else
        {
            _logger.LogInformation("Connected to the MQTT broker at {Endpoint} as {ClientId}", Endpoint, ClientId);
        }

        RaiseConnectionChanged(true, reconnect ? "reconnected" : "connected");
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        if (!e.ClientWasConnected)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            if (_connected.Task.IsCompleted)
            {
                _connected = NewSignal();
            }
        }

        if (_stopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        string reason = e switch
        {
            { Exception: { } exception } => Describe(exception),
            { Reason: MqttClientDisconnectReason.NormalDisconnection } => "the broker closed the connection",
            _ => $"the broker disconnected: {e.Reason}{(string.IsNullOrEmpty(e.ReasonString) ? "" : $" ({e.ReasonString})")}",
        };
        _lostAt = DateTimeOffset.UtcNow;
        _lastFailure = null;
        _logger.LogWarning("MQTT connection to {Endpoint} lost: {Reason}; reconnecting, messages wait", Endpoint, reason);
        RaiseConnectionChanged(false, reason);
        _reconnectNeeded.Release();
        return Task.CompletedTask;
    }

    private async Task RunReconnectLoopAsync(CancellationToken stopping)
    {
        var reconnect = Backoff(int.MaxValue, jitter: true, (reason, _, delay) => LogAttemptFailure(reason, delay));

        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _reconnectNeeded.WaitAsync(stopping).ConfigureAwait(false);
                await reconnect.ExecuteAsync(ConnectOnceAsync, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Only an unexpected error gets here (connect failures are retried): log it and try again later.
                _logger.LogError(e, "The MQTT reconnect loop failed; trying again in {Delay} s", MaxReconnectDelay.TotalSeconds);
                try
                {
                    await Task.Delay(MaxReconnectDelay, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                _reconnectNeeded.Release();
            }
        }
    }

    /// <summary>Retries every failed connect attempt with exponential backoff from <see cref="ReconnectDelay"/> up to <see cref="MaxReconnectDelay"/>.</summary>
    private ResiliencePipeline Backoff(int maxRetryAttempts, bool jitter, Action<string, int, TimeSpan> onRetry) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsConnectFailure),
                MaxRetryAttempts = maxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = jitter,
                Delay = ReconnectDelay,
                MaxDelay = MaxReconnectDelay,
                OnRetry = args =>
                {
                    onRetry(Describe(args.Outcome.Exception), args.AttemptNumber, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    /// <summary>A warning when the reason changes, otherwise debug: an outage logs once, not every attempt.</summary>
    private void LogAttemptFailure(string reason, TimeSpan nextDelay)
    {
        if (reason == _lastFailure)
        {
            _logger.LogDebug("MQTT reconnect to {Endpoint} failed: {Reason}; next try in {Delay:0.0} s", Endpoint, reason, nextDelay.TotalSeconds);
            return;
        }

        _lastFailure = reason;
        _logger.LogWarning("Cannot reach the MQTT broker at {Endpoint}: {Reason}; retrying with backoff (at most every {Max:0} s)",
            Endpoint, reason, MaxReconnectDelay.TotalSeconds);
    }

    private async Task PublishUntilAcknowledgedAsync(MqttApplicationMessage message, CancellationToken cancellation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _stopping.Token);
        while (true)
        {
            MqttClientPublishResult result;
            try
            {
                Task connected;
                lock (_gate)
                {
                    connected = _connected.Task;
                }

                await connected.WaitAsync(linked.Token).ConfigureAwait(false);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                attempt.CancelAfter(PublishAttemptTimeout);
                result = await _client.PublishAsync(message, attempt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !cancellation.IsCancellationRequested)
            {
                throw new InvalidOperationException($"the MQTT publisher stopped before the message on {message.Topic} was acknowledged");
            }
            catch (Exception e) when (!linked.IsCancellationRequested && (IsConnectionProblem(e) || !_client.IsConnected))
            {
                _logger.LogDebug("Publish on {Topic} not acknowledged ({Reason}); sending again once connected", message.Topic, Describe(e));

                // Give the client a moment to notice a dead connection before looking at the connected signal again.
                await Task.Delay(TimeSpan.FromMilliseconds(100), linked.Token).ConfigureAwait(false);
                continue;
            }

            if (IsAccepted(result.ReasonCode))
            {
                return;
            }

            _logger.LogError("The MQTT broker rejected the message on {Topic}: {ReasonCode} {ReasonString}", message.Topic, result.ReasonCode, result.ReasonString);
            throw new MqttPublishRejectedException(message.Topic, result.ReasonCode, result.ReasonString);
        }
    }

    private async Task SubscribeTriggersCoreAsync(CancellationToken cancellation)
    {
        string filter = _topics.Trigger("+");
        var options = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(new MqttTopicFilterBuilder()
                .WithTopic(filter)
                .WithAtLeastOnceQoS()
                .WithRetainHandling(MqttRetainHandling.DoNotSendOnSubscribe))
            .Build();
        var result = await _client.SubscribeAsync(options, cancellation).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if (item.ResultCode is not (MqttClientSubscribeResultCode.GrantedQoS1 or MqttClientSubscribeResultCode.GrantedQoS0))
            {
                _logger.LogError("The MQTT broker refused the trigger subscription {Filter}: {ResultCode}", filter, item.ResultCode);
            }
        }
    }

    private async Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        string topic = e.ApplicationMessage.Topic;
        string prefix = _topics.Trigger("");
        var handler = Volatile.Read(ref _triggerHandler);
        if (handler is null || !topic.StartsWith(prefix, StringComparison.Ordinal) || topic.Length == prefix.Length || topic.IndexOf('/', prefix.Length) >= 0)
        {
            return;
        }

        var message = e.ApplicationMessage;
        TriggerCommand? command = null;
        string? problem = null;
        try
        {
            var payload = message.Payload;
            command = payload.Length > MessageJson.MaxTriggerBytes
                ? throw new MessageFormatException(topic, MessageJson.TriggerShape, $"the payload is {payload.Length} bytes, at most {MessageJson.MaxTriggerBytes}")
                : MessageJson.ParseTrigger(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), topic);
        }
        catch (MessageFormatException bad)
        {
            problem = bad.Message;
        }

        var request = new TriggerRequest(topic[prefix.Length..], topic, command, problem, message.ResponseTopic, message.CorrelationData ?? [],
            DateTimeOffset.UtcNow, message.MessageExpiryInterval == 0 ? null : TimeSpan.FromSeconds(message.MessageExpiryInterval));
        try
        {
            await handler(request).ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            _logger.LogError(failure, "The trigger handler failed for camera {Camera}, part {PartId}", request.Camera, command?.PartId);
        }
    }

    private StatusMessage CurrentStatus(string state) => Status with { State = state, At = DateTimeOffset.UtcNow };

    private static MqttApplicationMessage ToApplicationMessage(OutgoingMessage message)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(message.Topic)
            .WithPayload(new ReadOnlySequence<byte>(message.Payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(message.Retain);
        if (!string.IsNullOrEmpty(message.ContentType))
        {
            builder.WithContentType(message.ContentType);
            if (message.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
                || message.ContentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase))
            {
                builder.WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData);
            }
        }

        if (message.CorrelationId is { } correlation)
        {
            builder.WithCorrelationData(Encoding.UTF8.GetBytes(correlation));
        }

        if (message.Schema is { } schema)
        {
            builder.WithUserProperty(SchemaVersion.UserProperty, new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(schema)));
        }

        return builder.Build();
    }

    private void RaiseConnectionChanged(bool connected, string reason)
    {
        try
        {
            ConnectionChanged?.Invoke(new MqttConnectionChange(connected, Endpoint, reason));
        }
        catch (Exception e)
        {
            _logger.LogError(e, "A ConnectionChanged handler failed");
        }
    }

    private static bool IsAccepted(MqttClientPublishReasonCode code) =>
        code is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers;

    /// <summary>Every failed attempt is retried; only cancellation ends the retries.</summary>
    private static bool IsConnectFailure(Exception e) => e is not OperationCanceledException;

    private static bool IsConnectionProblem(Exception e) =>
        e is MqttCommunicationException or OperationCanceledException or ObjectDisposedException or IOException or SocketException or TimeoutException;

    /// <summary>Why a connection failed, for people: refused, not authorised, TLS, timeout.</summary>
    internal static string Describe(Exception? e)
    {
        if (e is null)
        {
            return "unknown error";
        }

        if (e is BrokerRefusedException refused)
        {
            string code = refused.ResultCode switch
            {
                MqttClientConnectResultCode.BadUserNameOrPassword => "not authorised: bad user name or password",
                MqttClientConnectResultCode.NotAuthorized => "not authorised",
                MqttClientConnectResultCode.ClientIdentifierNotValid => "client id refused",
                MqttClientConnectResultCode.Banned => "not authorised: banned",
                MqttClientConnectResultCode.UnsupportedProtocolVersion => "the broker does not speak MQTT 5",
                var other => $"refused by the broker ({other})",
            };
            return string.IsNullOrEmpty(refused.ReasonString) ? code : $"{code}: {refused.ReasonString}";
        }

        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case AuthenticationException tls:
                    return $"TLS failure: {tls.Message}{(tls.InnerException is { } cause ? $" ({cause.Message})" : "")}";
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused (is the broker running and listening there?)",
                        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "host not found",
                        SocketError.TimedOut => "timed out",
                        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
                        _ => socket.Message,
                    };
                case TimeoutException or MqttCommunicationTimedOutException:
                    return $"timed out ({inner.Message})";
            }
        }

        return e.Message;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
