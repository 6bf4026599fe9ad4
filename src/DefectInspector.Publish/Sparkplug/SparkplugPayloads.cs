using DefectInspector.Publish.Sparkplug.Proto;
using Google.Protobuf;

namespace DefectInspector.Publish.Sparkplug;

/// <summary>
/// The metrics the node publishes and the payloads that carry them. Metrics go by name in every message (no aliases):
/// valid Sparkplug, and a consumer that joins the stream late needs nothing but the births. docs/sparkplug.md lists them.
/// </summary>
internal static class SparkplugPayloads
{
    public const string BdSeq = "bdSeq";
    public const string Rebirth = "Node Control/Rebirth";
    public const string PropertiesFolder = "Properties/";
    public const string TriggerPartId = "Trigger/Part Id";

    public const string State = "Camera/State";
    public const string Fps = "Camera/Fps";
    public const string OkCount = "Counts/Ok";
    public const string NgCount = "Counts/Ng";
    public const string UncertainCount = "Counts/Uncertain";
    public const string ErrorCount = "Counts/Error";
    public const string LastVerdict = "Last Verdict/Verdict";
    public const string ResultCode = "Last Verdict/Result Code";
    public const string DefectScore = "Last Verdict/Defect Score";
    public const string PredictedClass = "Last Verdict/Class";
    public const string PartId = "Last Verdict/Part Id";
    public const string VerdictId = "Last Verdict/Verdict Id";

    /// <summary>Sparkplug B data type codes (sparkplug_b.proto, "Indexes of Data Types").</summary>
    private const uint UInt64Type = 8, DoubleType = 10, BooleanType = 11, StringType = 12;

    public static byte[] NodeBirth(long bdSeq, IReadOnlyDictionary<string, string> properties, DateTimeOffset at)
    {
        var payload = new Payload { Timestamp = Millis(at), Seq = 0 };
        payload.Metrics.Add(UInt64(BdSeq, (ulong)bdSeq, at));
        payload.Metrics.Add(Boolean(Rebirth, false, at));
        foreach (var (name, value) in properties)
        {
            payload.Metrics.Add(String(PropertiesFolder + name, value, at));
        }

        return payload.ToByteArray();
    }

    /// <summary>
    /// NDEATH: only bdSeq and no seq, as the specification asks. No timestamp either: the Last Will is fixed when the
    /// connection opens, and the time of death is when the broker publishes it, not then.
    /// </summary>
    public static byte[] NodeDeath(long bdSeq) =>
        new Payload { Metrics = { new Payload.Types.Metric { Name = BdSeq, Datatype = UInt64Type, LongValue = (ulong)bdSeq } } }.ToByteArray();

    public static byte[] DeviceBirth(SparkplugDeviceMetrics metrics, long seq, DateTimeOffset at)
    {
        var payload = new Payload { Timestamp = Millis(at), Seq = (ulong)seq };
        payload.Metrics.AddRange(StateMetrics(metrics, at));
        payload.Metrics.AddRange(VerdictMetrics(metrics, at));

        // The command target: a host writes a part id here (DCMD) to trigger an inspection. It holds no reading, so null.
        payload.Metrics.Add(String(TriggerPartId, null, at));
        return payload.ToByteArray();
    }

    public static byte[] DeviceData(IEnumerable<Payload.Types.Metric> metrics, long seq, DateTimeOffset at)
    {
        var payload = new Payload { Timestamp = Millis(at), Seq = (ulong)seq };
        payload.Metrics.AddRange(metrics);
        return payload.ToByteArray();
    }

    public static IEnumerable<Payload.Types.Metric> StateMetrics(SparkplugDeviceMetrics m, DateTimeOffset at) =>
    [
        String(State, m.State, at),
        Double(Fps, m.Fps, at),
    ];

    public static IEnumerable<Payload.Types.Metric> VerdictMetrics(SparkplugDeviceMetrics m, DateTimeOffset at) =>
    [
        UInt64(OkCount, m.Ok, at),
        UInt64(NgCount, m.Ng, at),
        UInt64(UncertainCount, m.Uncertain, at),
        UInt64(ErrorCount, m.Error, at),
        String(LastVerdict, m.LastVerdict, at),
        String(ResultCode, m.ResultCode, at),
        Double(DefectScore, m.DefectScore, at),
        String(PredictedClass, m.PredictedClass, at),
        String(PartId, m.PartId, at),
        String(VerdictId, m.VerdictId, at),
    ];

    /// <summary>Sparkplug timestamps: milliseconds since the Unix epoch, UTC.</summary>
    public static ulong Millis(DateTimeOffset at) => (ulong)at.ToUnixTimeMilliseconds();

    private static Payload.Types.Metric UInt64(string name, ulong value, DateTimeOffset at) =>
        new() { Name = name, Timestamp = Millis(at), Datatype = UInt64Type, LongValue = value };

    private static Payload.Types.Metric Boolean(string name, bool value, DateTimeOffset at) =>
        new() { Name = name, Timestamp = Millis(at), Datatype = BooleanType, BooleanValue = value };

    /// <summary>A missing value is sent as is_null with its type, as Sparkplug asks, not as an empty string or 0.</summary>
    private static Payload.Types.Metric String(string name, string? value, DateTimeOffset at) =>
        value is null
            ? new() { Name = name, Timestamp = Millis(at), Datatype = StringType, IsNull = true }
            : new() { Name = name, Timestamp = Millis(at), Datatype = StringType, StringValue = value };

    private static Payload.Types.Metric Double(string name, double? value, DateTimeOffset at) =>
        value is { } number
            ? new() { Name = name, Timestamp = Millis(at), Datatype = DoubleType, DoubleValue = number }
            : new() { Name = name, Timestamp = Millis(at), Datatype = DoubleType, IsNull = true };
}
