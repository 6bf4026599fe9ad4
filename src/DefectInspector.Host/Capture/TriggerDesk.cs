using System.Threading.Channels;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Capture;

/// <summary>
/// Where trigger commands arrive and get their one answer (docs/mqtt.md, "Trigger command"). A trigger the station
/// cannot serve is refused at once (invalid, unknown camera, camera offline, duplicate commandId, queue full); the
/// others wait in their camera's inbox until the camera takes one for a frame (accepted, with the verdict's id) or it
/// can no longer be served: its time to live passed (expired), or the camera went offline meanwhile. So a trigger never
/// lands on a frame taken after its camera came back. Answers go to the MQTT 5 response topic a trigger names.
/// </summary>
internal sealed class TriggerDesk
{
    // Long enough to cover a sender's retries and a broker's QoS 1 redelivery; bounded so that months of command ids do
    // not accumulate.
    internal static readonly TimeSpan DuplicateWindow = TimeSpan.FromMinutes(10);
    private const int DuplicateCapacity = 10_000;

    private readonly MqttPublisher publisher;
    private readonly CameraStatusBoard status;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Dictionary<string, TriggerInbox> inboxes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan?> maxAge = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Camera, string CommandId), DateTimeOffset> seen = [];
    private readonly Queue<(string Camera, string CommandId, DateTimeOffset At)> seenOrder = new();
    private readonly Channel<(TriggerRequest Request, TriggerReply Reply)> replies =
        Channel.CreateBounded<(TriggerRequest, TriggerReply)>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Lock gate = new();
    private bool closed;

    public TriggerDesk(MqttPublisher publisher, CameraStatusBoard status, IOptions<CamerasOptions> cameras, TimeProvider time, ILogger<TriggerDesk> logger)
    {
        this.publisher = publisher;
        this.status = status;
        this.time = time;
        this.logger = logger;
        foreach (var camera in cameras.Value.Cameras.Where(c => c.IsTriggered))
        {
            inboxes[camera.Name] = new TriggerInbox(camera.Name, camera.TriggerQueueCapacity);
            maxAge[camera.Name] = camera.TriggerMaxAgeMs > 0 ? TimeSpan.FromMilliseconds(camera.TriggerMaxAgeMs) : null;
        }
        status.Changed += OnCameraStatus;
    }

    public TriggerInbox? InboxOf(string camera) => inboxes.GetValueOrDefault(camera);

    /// <summary>The MQTT publisher's trigger handler: short, on the receive path.</summary>
    public Task OnTriggerAsync(TriggerRequest request)
    {
        if (request.Command is not { } command)
            return Reject(request, ResultCodes.Invalid, request.Problem ?? "not a trigger command");
        if (!inboxes.TryGetValue(request.Camera, out var inbox))
            return Reject(request, ResultCodes.UnknownCamera, $"no camera named '{request.Camera}' has Trigger=mqtt");

        lock (gate)
        {
            // Under the gate: a camera that goes offline now empties its inbox after this trigger is in it, or before it is checked.
            string state = status.States.GetValueOrDefault(request.Camera, CameraStates.Offline);
            if (closed || state != CameraStates.Online)
                return Reject(request, ResultCodes.CameraOffline, closed ? "the station is stopping" : $"camera '{request.Camera}' is {state}");
            var now = time.GetUtcNow();
            ForgetOldCommands(now);
            if (command.CommandId is { } id && seen.ContainsKey((request.Camera, id)))
                return Reject(request, ResultCodes.Duplicate, $"commandId '{id}' was taken within the last {DuplicateWindow.TotalMinutes:0} minutes");
            if (!inbox.TryPost(new TriggerInbox.Pending(request, Deadline(request))))
                return Reject(request, ResultCodes.QueueFull, $"{inbox.Count} triggers already wait for camera '{request.Camera}'");
            if (command.CommandId is { } taken)
            {
                seen[(request.Camera, taken)] = now;
                seenOrder.Enqueue((request.Camera, taken, now));
            }
        }
        logger.LogDebug("Trigger for camera {Camera}, part {PartId} queued", request.Camera, command.PartId);
        return Task.CompletedTask;
    }

    /// <summary>The camera took the trigger for the frame that becomes verdict <paramref name="verdictId"/>.</summary>
    public void Accepted(TriggerRequest request, Guid verdictId) =>
        Answer(request, ResultCodes.Accepted, null, verdictId);

    public void Expired(TriggerInbox.Pending pending) =>
        Answer(pending.Request, ResultCodes.Expired, $"no frame within {(pending.Deadline - pending.Request.ReceivedAt).TotalMilliseconds:0} ms of the trigger", null);

    public bool HasExpired(TriggerInbox.Pending pending, DateTimeOffset at) => pending.Deadline <= at;

    /// <summary>Answers the replies until <see cref="Close"/>, and expires waiting triggers as their deadlines pass.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        var sweep = SweepAsync(cancellation);
        await foreach (var (request, reply) in replies.Reader.ReadAllAsync(cancellation))
        {
            try
            {
                await publisher.ReplyAsync(request, reply, cancellation);
            }
            catch (MqttPublishRejectedException e)
            {
                logger.LogError("Broker refused the reply to a trigger on {Topic}: {Reason}", e.Topic, e.Message);
            }
        }
        await sweep.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Refuses every waiting trigger (the station is stopping) and lets the replies drain.</summary>
    public void Close()
    {
        lock (gate) closed = true;
        status.Changed -= OnCameraStatus;
        foreach (var inbox in inboxes.Values)
            foreach (var pending in inbox.RemoveAll())
                Answer(pending.Request, ResultCodes.CameraOffline, "the station is stopping", null);
        replies.Writer.TryComplete();
    }

    private async Task SweepAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
        while (await timer.WaitForNextTickAsync(cancellation) && !replies.Reader.Completion.IsCompleted)
        {
            var now = time.GetUtcNow();
            foreach (var inbox in inboxes.Values)
                foreach (var pending in inbox.RemoveExpired(now))
                    Expired(pending);
        }
    }

    private void OnCameraStatus(CameraStatusMessage message)
    {
        if (message.State == CameraStates.Online || !inboxes.TryGetValue(message.Camera, out var inbox)) return;
        List<TriggerInbox.Pending> dropped;
        lock (gate) dropped = inbox.RemoveAll();
        foreach (var pending in dropped)
            Answer(pending.Request, ResultCodes.CameraOffline, $"camera '{message.Camera}' went {message.State}: {message.Reason}", null);
    }

    private DateTimeOffset Deadline(TriggerRequest request)
    {
        var limits = new[] { request.ExpiresIn, maxAge[request.Camera] }.Where(t => t is not null).Select(t => t!.Value).ToList();
        return limits.Count == 0 ? DateTimeOffset.MaxValue : request.ReceivedAt + limits.Min();
    }

    private void ForgetOldCommands(DateTimeOffset now)
    {
        while (seenOrder.TryPeek(out var oldest) && (now - oldest.At > DuplicateWindow || seenOrder.Count > DuplicateCapacity))
        {
            seenOrder.Dequeue();
            if (seen.TryGetValue((oldest.Camera, oldest.CommandId), out var at) && at == oldest.At)
                seen.Remove((oldest.Camera, oldest.CommandId));
        }
    }

    private Task Reject(TriggerRequest request, string code, string message)
    {
        Answer(request, code, message, null);
        return Task.CompletedTask;
    }

    private void Answer(TriggerRequest request, string code, string? message, Guid? verdictId)
    {
        bool accepted = code == ResultCodes.Accepted;
        if (!accepted)
            logger.LogWarning("Trigger on {Topic} (part {PartId}, command {CommandId}) refused, {ResultCode}: {Reason}",
                request.Topic, request.Command?.PartId, request.Command?.CommandId, code, message);
        var reply = new TriggerReply
        {
            Camera = request.Camera,
            PartId = request.Command?.PartId,
            CommandId = request.Command?.CommandId,
            Result = accepted ? TriggerResults.Accepted : TriggerResults.Rejected,
            ResultCode = code,
            ResultNumber = ResultCodes.Number(code),
            Message = message,
            VerdictId = verdictId?.ToString(),
            At = time.GetUtcNow(),
        };
        if (!string.IsNullOrEmpty(request.ResponseTopic))
            replies.Writer.TryWrite((request, reply));
    }
}
