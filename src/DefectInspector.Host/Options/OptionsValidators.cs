using System.Globalization;
using DefectInspector.Core.Naming;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using DefectInspector.Publish;
using DefectInspector.Publish.Sparkplug;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Options;

/// <summary>Collects "Key 'value': expected ..." messages, so every bad key is reported at once and by its config name.</summary>
internal sealed class ConfigErrors
{
    private readonly List<string> errors = [];

    public void Add(string key, object? value, string expected) =>
        errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key} '{value}': expected {expected}"));

    public void Check(bool ok, string key, object? value, string expected)
    {
        if (!ok) Add(key, value, expected);
    }

    public ValidateOptionsResult Result => errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}

internal sealed class StationOptionsValidator : IValidateOptions<StationOptions>
{
    public ValidateOptionsResult Validate(string? name, StationOptions o)
    {
        var e = new ConfigErrors();
        e.Check(TopicName.IsValid(o.Site), "Station:Site", o.Site, TopicName.Allowed);
        e.Check(TopicName.IsValid(o.Line), "Station:Line", o.Line, TopicName.Allowed);
        e.Check(o.Station.Length == 0 || TopicName.IsValid(o.Station), "Station:Station", o.Station, TopicName.Allowed + " (empty = host name)");
        return e.Result;
    }
}

internal sealed class CamerasOptionsValidator : IValidateOptions<CamerasOptions>
{
    public ValidateOptionsResult Validate(string? name, CamerasOptions o)
    {
        var e = new ConfigErrors();
        if (o.Cameras.Count == 0)
            e.Add("Cameras", "", "at least one camera, e.g. Cameras:0:Name=cam1 and Cameras:0:Source=virtual");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < o.Cameras.Count; i++)
        {
            var c = o.Cameras[i];
            string key = $"Cameras:{i}";
            e.Check(TopicName.IsValid(c.Name), $"{key}:Name", c.Name, TopicName.Allowed);
            if (TopicName.IsValid(c.Name) && !seen.Add(c.Name))
                e.Add($"{key}:Name", c.Name, "a name no other camera has");
            try
            {
                FrameSources.Validate(c.Source);
            }
            catch (ArgumentException)
            {
                e.Add($"{key}:Source", StreamUrls.MaskCredentials(c.Source), $"one of: {FrameSources.AllowedForms}");
            }
            if (c.IsTriggered && c.Source.StartsWith("folder:", StringComparison.OrdinalIgnoreCase))
                e.Add($"{key}:Trigger", c.Trigger, $"{TriggerModes.Continuous} for a folder source (each dropped file is a part)");
            e.Check(c.Trigger is TriggerModes.Continuous or TriggerModes.Mqtt, $"{key}:Trigger", c.Trigger, $"{TriggerModes.Continuous} or {TriggerModes.Mqtt}");
            e.Check(double.IsFinite(c.MaxFps) && c.MaxFps >= 0, $"{key}:MaxFps", c.MaxFps, "frames per second >= 0 (0 = no limit)");
            e.Check(double.IsFinite(c.VirtualFps) && c.VirtualFps > 0 && c.VirtualFps <= 1000, $"{key}:VirtualFps", c.VirtualFps, "parts per second in (0, 1000]");
            e.Check(c.Roi.Length == 0 || RegionOfInterest.TryParse(c.Roi, out _), $"{key}:Roi", c.Roi, "x,y,width,height with x,y >= 0 and width,height > 0, or empty");
            e.Check(c.ProcessedFolder.Length == 0 || (c.ProcessedFolder.IndexOfAny(['/', '\\']) < 0 && c.ProcessedFolder is not ("." or "..")),
                $"{key}:ProcessedFolder", c.ProcessedFolder, "a plain subfolder name, or empty to keep a journal instead");
        }
        return e.Result;
    }
}

internal sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    private static bool Succeeds(Action check)
    {
        try
        {
            check();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public ValidateOptionsResult Validate(string? name, ModelOptions o)
    {
        var e = new ConfigErrors();
        e.Check(o.Path.Length == 0 || File.Exists(o.Path), "Model:Path", o.Path, "an existing model bundle (.dimodel) or exported graph (.onnx), or empty for the built-in demo model");
        e.Check(Engines.Names.Contains(o.Engine.ToLowerInvariant()), "Model:Engine", o.Engine, string.Join(" or ", Engines.Names));
        if (string.Equals(o.Engine, Engines.Onnx, StringComparison.OrdinalIgnoreCase))
        {
            // ONNX Runtime's own checks: nothing here may load libtorch.
            var onnx = o.Onnx.ToSettings("cpu");
            e.Check(Succeeds(() => OnnxDevice.Parse(o.Device, "Model:Device")), "Model:Device", o.Device, "cpu, cuda, cuda:N, tensorrt or tensorrt:N");
            e.Check(onnx.IntraOpThreads >= 0, "Model:Onnx:IntraOpThreads", onnx.IntraOpThreads, "0 (one per physical core) or more");
            e.Check(OnnxSessionSettings.OptimizationLevels.Contains(onnx.GraphOptimization.ToLowerInvariant()), "Model:Onnx:GraphOptimization", onnx.GraphOptimization,
                OnnxSessionSettings.OptimizationChoices);
        }
        else
        {
            e.Check(!o.Path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase), "Model:Path", o.Path, "a model bundle (.dimodel) for the torch engine; serve an .onnx with Model:Engine=onnx");
            try
            {
                TorchDevice.Check(o.Device);
            }
            catch (ArgumentException)
            {
                e.Add("Model:Device", o.Device, "cpu, cuda or cuda:N for the torch engine (tensorrt needs Model:Engine=onnx)");
            }
            catch (InvalidOperationException ex)
            {
                e.Add("Model:Device", o.Device, $"a device this build can use ({ex.Message})");
            }
        }
        e.Check(o.Method.Length == 0 || CamMethods.Names.Contains(o.Method.ToLowerInvariant()), "Model:Method", o.Method, $"one of {string.Join(", ", CamMethods.Names)}, or empty for the bundle's");
        e.Check(o.Layer.Length == 0 || AreLayers(o.Layer), "Model:Layer", o.Layer, $"one of {string.Join(", ", Layers.Names)}, several comma-separated for layercam (layer2,layer3,layer4), or empty for the bundle's");
        return e.Result;
    }

    private static bool AreLayers(string layers)
    {
        try
        {
            Layers.ToStages(layers);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

internal sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions o)
    {
        var e = new ConfigErrors();
        e.Check(o.MaxBatchSize is >= 1 and <= 64, "Pipeline:MaxBatchSize", o.MaxBatchSize, "1 to 64");
        e.Check(o.BatchLatencyMs is >= 0 and <= 1000, "Pipeline:BatchLatencyMs", o.BatchLatencyMs, "0 to 1000 milliseconds");
        e.Check(o.QueueCapacity is >= 1 and <= 1000, "Pipeline:QueueCapacity", o.QueueCapacity, "1 to 1000 frames");
        e.Check(o.SnapshotMaxWidth is >= 64 and <= 8192, "Pipeline:SnapshotMaxWidth", o.SnapshotMaxWidth, "64 to 8192 pixels");
        e.Check(o.SnapshotJpegQuality is >= 1 and <= 100, "Pipeline:SnapshotJpegQuality", o.SnapshotJpegQuality, "1 to 100");
        e.Check(o.StatsIntervalSeconds is >= 0 and <= 86400, "Pipeline:StatsIntervalSeconds", o.StatsIntervalSeconds, "0 (off) to 86400 seconds");
        e.Check(o.StallTimeoutSeconds is >= 1 and <= 3600, "Pipeline:StallTimeoutSeconds", o.StallTimeoutSeconds, "1 to 3600 seconds");
        e.Check(o.StallExitSeconds == 0 || (o.StallExitSeconds > o.StallTimeoutSeconds && o.StallExitSeconds <= 86400), "Pipeline:StallExitSeconds", o.StallExitSeconds,
            $"0 (never) or more than Pipeline:StallTimeoutSeconds ({o.StallTimeoutSeconds}), up to 86400 seconds");
        e.Check(o.CameraBreakSeconds is > 30 and <= 3600, "Pipeline:CameraBreakSeconds", o.CameraBreakSeconds, "31 to 3600 seconds (longer than the 30 s a camera's retries wait at most)");
        e.Check(o.DrainTimeoutSeconds is >= 0 and <= 600, "Pipeline:DrainTimeoutSeconds", o.DrainTimeoutSeconds, "0 to 600 seconds");
        e.Check(o.DeliveryDrainSeconds is >= 0 and <= 600, "Pipeline:DeliveryDrainSeconds", o.DeliveryDrainSeconds, "0 to 600 seconds");
        return e.Result;
    }
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        var e = new ConfigErrors();
        string path = o.ResolvedPath;
        try
        {
            Directory.CreateDirectory(path);
            string probe = Path.Combine(path, $".write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            e.Add("Storage:Path", o.Path.Length == 0 ? path : o.Path, $"a directory this user can create and write ({ex.Message})");
        }
        e.Check(o.OutboxMaxMegabytes is >= 1 and <= 1_000_000, "Storage:OutboxMaxMegabytes", o.OutboxMaxMegabytes, "1 to 1000000 megabytes");
        e.Check(o.SnapshotArchiveDays is >= 0 and <= 3650, "Storage:SnapshotArchiveDays", o.SnapshotArchiveDays, "0 (no archive) to 3650 days");
        e.Check(o.SnapshotArchiveMaxMegabytes is >= 1 and <= 10_000_000, "Storage:SnapshotArchiveMaxMegabytes", o.SnapshotArchiveMaxMegabytes, "1 to 10000000 megabytes");
        return e.Result;
    }
}

internal sealed class SparkplugOptionsValidator : IValidateOptions<SparkplugOptions>
{
    public ValidateOptionsResult Validate(string? name, SparkplugOptions o)
    {
        var e = new ConfigErrors();
        e.Check(o.GroupId.Length == 0 || TopicName.IsValid(o.GroupId), "Sparkplug:GroupId", o.GroupId, TopicName.Allowed + " (empty = <site>-<line>)");
        e.Check(o.EdgeNodeId.Length == 0 || TopicName.IsValid(o.EdgeNodeId), "Sparkplug:EdgeNodeId", o.EdgeNodeId, TopicName.Allowed + " (empty = the station)");
        e.Check(o.HistoryCapacity is >= 1 and <= 1_000_000, "Sparkplug:HistoryCapacity", o.HistoryCapacity, "1 to 1000000 messages");
        return e.Result;
    }
}

internal sealed class MqttOptionsValidator : IValidateOptions<MqttOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttOptions o)
    {
        var e = new ConfigErrors();
        e.Check(o.Port is >= 1 and <= 65535, "Mqtt:Port", o.Port, "1 to 65535");
        e.Check(TopicName.IsValid(o.TopicPrefix), "Mqtt:TopicPrefix", o.TopicPrefix, TopicName.Allowed);
        e.Check(o.ClientId.Length <= 128 && !o.ClientId.Any(char.IsWhiteSpace), "Mqtt:ClientId", o.ClientId, "at most 128 characters without spaces, or empty for one derived from the station");
        e.Check(o.KeepAliveSeconds is >= 1 and <= 3600, "Mqtt:KeepAliveSeconds", o.KeepAliveSeconds, "1 to 3600 seconds");
        e.Check(o.MaxIncomingPacketBytes is >= 64 * 1024 and <= 256 * 1024 * 1024, "Mqtt:MaxIncomingPacketBytes", o.MaxIncomingPacketBytes, "65536 to 268435456 bytes");
        foreach (var (key, file) in new[] { ("Mqtt:CaFile", o.CaFile), ("Mqtt:ClientCertificateFile", o.ClientCertificateFile), ("Mqtt:ClientKeyFile", o.ClientKeyFile), ("Mqtt:PasswordFile", o.PasswordFile) })
            e.Check(file.Length == 0 || File.Exists(file), key, file, "an existing, readable file, or empty");
        e.Check((o.ClientCertificateFile.Length == 0) == (o.ClientKeyFile.Length == 0), "Mqtt:ClientKeyFile", o.ClientKeyFile, "set together with Mqtt:ClientCertificateFile");
        e.Check(o.UsesEmbeddedBroker || !o.Host.Any(char.IsWhiteSpace), "Mqtt:Host", o.Host, "a host name or address");
        e.Check(!o.UsesEmbeddedBroker || System.Net.IPAddress.TryParse(o.EmbeddedBindAddress, out _), "Mqtt:EmbeddedBindAddress", o.EmbeddedBindAddress, "an IP address, e.g. 127.0.0.1");
        for (int i = 0; i < o.EmbeddedUsers.Count; i++)
        {
            var user = o.EmbeddedUsers[i];
            e.Check(user.Name.Length is > 0 and <= 64 && !user.Name.Any(char.IsWhiteSpace) && !string.Equals(user.Name, o.Username, StringComparison.Ordinal)
                && o.EmbeddedUsers.Count(u => u.Name == user.Name) == 1,
                $"Mqtt:EmbeddedUsers:{i}:Name", user.Name, "1 to 64 characters without spaces, unique, and not Mqtt:Username");
            e.Check(BrokerRoles.Configurable.Contains(user.Role, StringComparer.Ordinal), $"Mqtt:EmbeddedUsers:{i}:Role", user.Role, string.Join(" or ", BrokerRoles.Configurable));
            e.Check(Hmi.Passwords.IsHash(user.PasswordHash), $"Mqtt:EmbeddedUsers:{i}:PasswordHash", user.PasswordHash.Length == 0 ? "" : "(hidden)",
                "a hash from `defect-inspector hmi hash-password`");
        }
        e.Check(o.EmbeddedUsers.Count == 0 || o.UsesEmbeddedBroker, "Mqtt:EmbeddedUsers", $"{o.EmbeddedUsers.Count} users", "none with Mqtt:Host set (they are the embedded broker's)");
        return e.Result;
    }
}
