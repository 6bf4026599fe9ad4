namespace DefectInspector.Publish.Contracts;

/// <summary>
/// The outcome of a trigger or a frame, as a stable string and a number for PLCs (docs/mqtt.md, "Result codes").
/// Numbers are grouped: 0-9 a decided verdict, 10-19 a part that could not be inspected, 20-29 a trigger taken,
/// 30-39 a trigger refused. New codes may be added in a minor version; a consumer treats an unknown code in a group as
/// that group.
/// </summary>
public static class ResultCodes
{
    public const string Ok = "ok";
    public const string Ng = "ng";
    public const string Uncertain = "uncertain";

    /// <summary>The camera could not deliver the frame a trigger asked for.</summary>
    public const string CaptureFailed = "capture-failed";

    /// <summary>The camera's Roi lies outside the frame it delivered.</summary>
    public const string RoiOutsideFrame = "roi-outside-frame";

    /// <summary>The model failed on the frame.</summary>
    public const string InspectionFailed = "inspection-failed";

    /// <summary>The frame was captured but the daemon stopped before it could be decided.</summary>
    public const string Timeout = "timeout";

    public const string Accepted = "accepted";

    /// <summary>The camera is not online: a trigger is never kept for a frame taken after the camera is back.</summary>
    public const string CameraOffline = "camera-offline";

    public const string UnknownCamera = "unknown-camera";

    /// <summary>The trigger's time to live (MQTT message expiry, Cameras:N:TriggerMaxAgeMs) passed before its frame.</summary>
    public const string Expired = "expired";

    /// <summary>A trigger with the same commandId was taken within the de-duplication window.</summary>
    public const string Duplicate = "duplicate";

    /// <summary>Cameras:N:TriggerQueueCapacity triggers already wait for that camera.</summary>
    public const string QueueFull = "queue-full";

    /// <summary>The payload is not a trigger command.</summary>
    public const string Invalid = "invalid";

    private static readonly Dictionary<string, int> Numbers = new(StringComparer.Ordinal)
    {
        [Ok] = 0,
        [Ng] = 1,
        [Uncertain] = 2,
        [CaptureFailed] = 10,
        [RoiOutsideFrame] = 11,
        [InspectionFailed] = 12,
        [Timeout] = 13,
        [Accepted] = 20,
        [CameraOffline] = 30,
        [UnknownCamera] = 31,
        [Expired] = 32,
        [Duplicate] = 33,
        [QueueFull] = 34,
        [Invalid] = 35,
    };

    /// <summary>Every code and its number, for the station descriptor and the docs.</summary>
    public static IReadOnlyDictionary<string, int> All => Numbers;

    public static int Number(string code) =>
        Numbers.TryGetValue(code, out int number) ? number : throw new ArgumentOutOfRangeException(nameof(code), code, "not a result code");

    /// <summary>The codes of a part that could not be inspected (an <c>error</c> verdict).</summary>
    public static bool IsError(string code) => Numbers.TryGetValue(code, out int n) && n is >= 10 and < 20;
}
