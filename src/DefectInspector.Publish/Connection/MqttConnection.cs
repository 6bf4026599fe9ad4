using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using Polly;
using Polly.Retry;

namespace DefectInspector.Publish.Connection;

/// <summary>
/// One MQTT 5 connection of the daemon to its broker: client options (TLS, credentials, the embedded broker's daemon
/// key), the user's Last Will, the first connect with a few attempts and then a background reconnect loop with
/// exponential backoff, logged once per outage rather than once per attempt. What a connection needs once it is up
/// comes from the user's <see cref="MqttSession"/>.
/// </summary>
/// <remarks>
/// Sessions start clean (clean start, session expiry 0): whatever was sent to the daemon while it was away is stale by
/// the time it is back, so the broker should not queue it; the users keep their own outgoing messages across outages.
/// </remarks>
internal sealed class MqttConnection : IAsyncDisposable
{
    private readonly MqttOptions options;
    private readonly MqttSession session;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly string host;
    private readonly SemaphoreSlim reconnectNeeded = new(0);
    private readonly CancellationTokenSource stopping = new();

    private MqttClientOptions? clientOptions;
    private Task reconnectLoop = Task.CompletedTask;

    // Only the connect path (first connect, then the reconnect loop, never both at once) and the disconnect handler
    // touch these; for the logs.
    private bool everConnected;
    private string? lastFailure;
    private DateTimeOffset lostAt;

    public MqttConnection(MqttOptions options, string clientId, MqttSession session, ILogger logger, TimeProvider time)
    {
        if (options.KeepAliveSeconds is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentException($"Mqtt:KeepAliveSeconds must be 1 to {ushort.MaxValue}, not {options.KeepAliveSeconds}", nameof(options));
        }

        if (options.Port is < 1 or > 65535)
        {
            throw new ArgumentException($"Mqtt:Port must be 1 to 65535, not {options.Port}", nameof(options));
        }

        this.options = options;
        this.session = session;
        this.logger = logger;
        this.time = time;
        host = MqttIdentity.BrokerHost(options);
        Endpoint = host.Contains(':') ? $"[{host}]:{options.Port}" : $"{host}:{options.Port}";
        ClientId = clientId;
        Client = new MqttClientFactory().CreateMqttClient();
        Client.DisconnectedAsync += OnDisconnectedAsync;
    }

    /// <summary>For the users' publishes and subscriptions; connecting is this class's job.</summary>
    public IMqttClient Client { get; }

    /// <summary>host:port of the broker, for messages and health.</summary>
    public string Endpoint { get; }

    public string ClientId { get; }

    public bool IsConnected => Client.IsConnected;

    /// <summary>Set before <see cref="StartAsync"/>.</summary>
    public MqttConnectionTiming Timing { get; set; } = new();

    /// <summary>Cancelled when the connection is being closed: what waits for it should give up.</summary>
    public CancellationToken Stopping => stopping.Token;

    /// <summary>Raised on the connect path after every connect whose session set-up succeeded.</summary>
    public event Action<MqttConnected>? Connected;

    /// <summary>Raised with the reason when a connection that was up is lost (not when it is closed on purpose).</summary>
    public event Action<string>? Lost;

    /// <summary>
    /// Connects, trying <see cref="MqttConnectionTiming.FirstConnectAttempts"/> times, then throws
    /// <see cref="MqttConnectException"/> naming host:port and the reason; reconnects in the background all the same,
    /// from then on and after every loss. Bad settings (unreadable CA or password file) throw
    /// <see cref="InvalidOperationException"/> at once. Call once.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        clientOptions = BuildClientOptions();
        reconnectLoop = Task.Run(() => RunReconnectLoopAsync(stopping.Token), CancellationToken.None);

        var firstConnect = Backoff(Math.Max(1, Timing.FirstConnectAttempts - 1), jitter: false, (reason, attempt, _) =>
            logger.LogDebug("{Label} connect to {Endpoint} failed (attempt {Attempt}): {Reason}", session.Label, Endpoint, attempt + 1, reason));

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, stopping.Token);
        try
        {
            await firstConnect.ExecuteAsync(ConnectOnceAsync, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectFailure(e) && !linked.IsCancellationRequested)
        {
            string reason = MqttFailures.Describe(e);
            lastFailure = reason;
            lostAt = time.GetUtcNow();
            logger.LogWarning("Cannot connect to the MQTT broker at {Endpoint} ({Label}): {Reason}; retrying in the background", Endpoint, session.Label, reason);
            reconnectNeeded.Release();
            throw new MqttConnectException(Endpoint, reason, e);
        }
    }

    /// <summary>Ends the reconnect loop and cancels <see cref="Stopping"/>; the connection, if up, stays up.</summary>
    public async Task StopReconnectingAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        await reconnectLoop.ConfigureAwait(false);
    }

    /// <summary>
    /// Stops reconnecting; then, when connected, sends <paramref name="farewell"/> and disconnects normally so that the
    /// broker discards the Will, all within the connect timeout.
    /// </summary>
    public async Task<MqttClose> CloseAsync(Func<CancellationToken, Task> farewell, CancellationToken cancellation)
    {
        await StopReconnectingAsync().ConfigureAwait(false);
        if (!Client.IsConnected)
        {
            return MqttClose.NotConnected;
        }

        try
        {
            using var timer = new CancellationTokenSource(Timing.ConnectTimeout, time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation, timer.Token);
            await farewell(timeout.Token).ConfigureAwait(false);
            var disconnect = new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build();
            await Client.DisconnectAsync(disconnect, timeout.Token).ConfigureAwait(false);
            return MqttClose.Clean;
        }
        catch (Exception e) when (MqttFailures.IsConnectionProblem(e))
        {
            logger.LogWarning("Could not close the {Label} connection to {Endpoint} cleanly (the broker sends {Will}): {Reason}",
                session.Label, Endpoint, session.WillName, MqttFailures.Describe(e));
            return MqttClose.Unclean;
        }
    }

    /// <summary>Stops reconnecting and releases the client; close first to say goodbye.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopReconnectingAsync().ConfigureAwait(false);
        Client.Dispose();
        stopping.Dispose();
        reconnectNeeded.Dispose();
    }

    private MqttClientOptions BuildClientOptions()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(host, this.options.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(ClientId)
            .WithCleanStart(true)
            .WithSessionExpiryInterval(0)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(this.options.KeepAliveSeconds))
            .WithTimeout(Timing.ConnectTimeout)
            .Identify(this.options);
        session.Will(builder);

        if (!string.IsNullOrEmpty(this.options.Username))
        {
            builder.WithCredentials(this.options.Username, MqttCredentials.Password(this.options) ?? "");
        }

        if (this.options.UseTls)
        {
            builder.WithTlsOptions(MqttCredentials.Tls(this.options, host));
        }

        var options = builder.Build();
        if (session.MaxIncomingPacketBytes is { } max)
        {
            // The broker must not hand this client a packet larger than this: a 100 MB "trigger" would otherwise be
            // read into memory whole before anyone looks at it.
            options.MaximumPacketSize = (uint)max;
        }

        return options;
    }

    /// <summary>One connection attempt with the session set-up, bounded by the connect timeout.</summary>
    private async ValueTask ConnectOnceAsync(CancellationToken cancellation)
    {
        if (Client.IsConnected)
        {
            return;
        }

        var options = clientOptions!;
        options.WillPayload = session.WillPayload();

        using var timer = new CancellationTokenSource(Timing.ConnectTimeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellation, timer.Token);
        try
        {
            var result = await Client.ConnectAsync(options, attempt.Token).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new BrokerRefusedException(result.ResultCode, result.ReasonString);
            }

            await session.SetUpAsync(attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            await Client.TryDisconnectAsync(MqttClientDisconnectOptionsReason.UnspecifiedError, "connect timed out").ConfigureAwait(false);
            throw new TimeoutException($"the broker did not answer within {Timing.ConnectTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not BrokerRefusedException && !cancellation.IsCancellationRequested && Client.IsConnected)
        {
            // The connection failed during set-up: drop it so the next attempt starts over.
            await Client.TryDisconnectAsync(MqttClientDisconnectOptionsReason.UnspecifiedError, "session set-up failed").ConfigureAwait(false);
            throw;
        }

        var connected = new MqttConnected(everConnected, time.GetUtcNow() - lostAt);
        everConnected = true;
        lastFailure = null;
        Connected?.Invoke(connected);
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        if (!e.ClientWasConnected || stopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        string reason = e switch
        {
            { Exception: { } exception } => MqttFailures.Describe(exception),
            { Reason: MqttClientDisconnectReason.NormalDisconnection } => "the broker closed the connection",
            _ => $"the broker disconnected: {e.Reason}{(string.IsNullOrEmpty(e.ReasonString) ? "" : $" ({e.ReasonString})")}",
        };
        lostAt = time.GetUtcNow();
        lastFailure = null;
        logger.LogWarning("{Label} connection to {Endpoint} lost: {Reason}; reconnecting, {WhileLost}", session.Label, Endpoint, reason, session.WhileLost);
        Lost?.Invoke(reason);
        reconnectNeeded.Release();
        return Task.CompletedTask;
    }

    private async Task RunReconnectLoopAsync(CancellationToken stopping)
    {
        var reconnect = Backoff(int.MaxValue, jitter: true, LogAttemptFailure);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await reconnectNeeded.WaitAsync(stopping).ConfigureAwait(false);
                await reconnect.ExecuteAsync(ConnectOnceAsync, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Only an unexpected error gets here (connect failures are retried): log it and try again later.
                logger.LogError(e, "The {Label} reconnect loop failed; trying again in {Delay} s", session.Label, Timing.MaxReconnectDelay.TotalSeconds);
                try
                {
                    await Task.Delay(Timing.MaxReconnectDelay, time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                reconnectNeeded.Release();
            }
        }
    }

    /// <summary>Retries every failed connect attempt with exponential backoff from the reconnect delay up to its maximum.</summary>
    private ResiliencePipeline Backoff(int maxRetryAttempts, bool jitter, Action<string, int, TimeSpan> onRetry) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsConnectFailure),
                MaxRetryAttempts = maxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = jitter,
                Delay = Timing.ReconnectDelay,
                MaxDelay = Timing.MaxReconnectDelay,
                OnRetry = args =>
                {
                    onRetry(MqttFailures.Describe(args.Outcome.Exception), args.AttemptNumber, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    /// <summary>A warning when the reason changes, otherwise debug: an outage logs once, not every attempt.</summary>
    private void LogAttemptFailure(string reason, int attempt, TimeSpan nextDelay)
    {
        if (reason == lastFailure)
        {
            logger.LogDebug("{Label} reconnect to {Endpoint} failed (attempt {Attempt}): {Reason}; next try in {Delay:0.0} s",
                session.Label, Endpoint, attempt + 1, reason, nextDelay.TotalSeconds);
            return;
        }

        lastFailure = reason;
        logger.LogWarning("Cannot reach the MQTT broker at {Endpoint} ({Label}): {Reason}; retrying with backoff (at most every {Max:0} s)",
            Endpoint, session.Label, reason, Timing.MaxReconnectDelay.TotalSeconds);
    }

    /// <summary>Every failed attempt is retried; only cancellation ends the retries.</summary>
    private static bool IsConnectFailure(Exception e) => e is not OperationCanceledException;
}
