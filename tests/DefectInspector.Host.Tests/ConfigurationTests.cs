using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

public sealed class ConfigurationTests : IDisposable
{
    private readonly TempFolder temp = new("di-config-");

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData("--Mqtt:Port=70000", "Mqtt:Port '70000': expected 1 to 65535")]
    [InlineData("--Mqtt:Port=abc", "Mqtt:Port")]
    [InlineData("--Mqtt:TopicPrefix=a/b", "Mqtt:TopicPrefix 'a/b': expected letters, digits")]
    [InlineData("--Sparkplug:GroupId=a/b", "Sparkplug:GroupId 'a/b': expected letters, digits")]
    [InlineData("--Sparkplug:HistoryCapacity=0", "Sparkplug:HistoryCapacity '0': expected 1 to 1000000 messages")]
    [InlineData("--Mqtt:CaFile=/nope/ca.pem", "Mqtt:CaFile '/nope/ca.pem': expected an existing, readable file")]
    [InlineData("--Cameras:0:Source=cam:3", "Cameras:0:Source 'cam:3': expected")]
    [InlineData("--Cameras:0:Name=bad name", "Cameras:0:Name 'bad name': expected letters, digits")]
    [InlineData("--Cameras:0:Name=..", "Cameras:0:Name '..': expected letters, digits, '-', '_' and '.' (at most 64, not '.' or '..')")]
    [InlineData("--Cameras:0:Trigger=sometimes", "Cameras:0:Trigger 'sometimes': expected continuous or mqtt")]
    [InlineData("--Cameras:0:Roi=1,2,3", "Cameras:0:Roi '1,2,3': expected x,y,width,height")]
    [InlineData("--Cameras:0:MaxFps=-1", "Cameras:0:MaxFps '-1': expected frames per second >= 0")]
    [InlineData("--Model:Path=/nope/model.dimodel", "Model:Path '/nope/model.dimodel': expected an existing model bundle")]
    [InlineData("--Model:Device=tpu", "Model:Device 'tpu': expected cpu, cuda, cuda:N, tensorrt or tensorrt:N")]
    [InlineData("--Model:Engine=tensorflow", "Model:Engine 'tensorflow': expected torch or onnx")]
    [InlineData("--Model:Onnx:GraphOptimization=fast", "Model:Onnx:GraphOptimization 'fast': expected all, extended, basic or disabled")]
    [InlineData("--Model:Onnx:IntraOpThreads=-1", "Model:Onnx:IntraOpThreads '-1': expected 0 (one per physical core) or more")]
    [InlineData("--Model:Method=magic", "Model:Method 'magic': expected one of cam, gradcam")]
    [InlineData("--Pipeline:MaxBatchSize=0", "Pipeline:MaxBatchSize '0': expected 1 to 64")]
    [InlineData("--Station:Line=a+b", "Station:Line 'a+b': expected letters, digits")]
    [InlineData("--Storage:OutboxMaxMegabytes=0", "Storage:OutboxMaxMegabytes '0': expected 1 to 1000000 megabytes")]
    [InlineData("--Storage:Path=/proc/forbidden", "Storage:Path '/proc/forbidden': expected a directory this user can create and write")]
    [InlineData("--Hmi:Url=http://0.0.0.0:8090", "Hmi:Users '': expected at least one user when Hmi:Url is beyond loopback")]
    [InlineData("--Hmi:Url=http://127.0.0.1:8080", "Hmi:Url 'http://127.0.0.1:8080': expected a port other than Health:Url's")]
    [InlineData("--Hmi:LiveFps=99", "Hmi:LiveFps '99': expected 0 to 30")]
    [InlineData("--Hmi:Language=fr", "Hmi:Language 'fr': expected auto, en, zh-CN")]
    [InlineData("--Hmi:SessionHours=abc", "Hmi:SessionHours")]
    [InlineData("--Hmi:Users:0:PasswordHash=plain-text", "Hmi:Users:0:PasswordHash '(hidden)': expected a hash made by `defect-inspector hmi hash-password`")]
    [InlineData("--Mqtt:Hots=x", "Hots")]
    [InlineData("stray", "argument 'stray': expected --Section:Key=value")]
    public void Run_refuses_a_bad_value_naming_the_key_the_value_and_what_is_allowed(string argument, string expected)
    {
        var (exit, output) = DaemonProcess.Run(["run", $"--Storage:Path={temp.Path}", argument]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void Every_bad_key_is_reported_at_once()
    {
        var (exit, output) = DaemonProcess.Run(["config", "validate", $"--Storage:Path={temp.Path}", "--Mqtt:Port=0", "--Pipeline:QueueCapacity=0", "--Cameras:1:Name=virtual", "--Cameras:1:Source=virtual",
            "--Storage:SnapshotArchiveDays=-1", "--Pipeline:DeliveryDrainSeconds=601"]);
        Assert.Equal(2, exit);
        Assert.Contains("Mqtt:Port '0'", output);
        Assert.Contains("Pipeline:QueueCapacity '0'", output);
        Assert.Contains("Cameras:1:Name 'virtual': expected a name no other camera has", output);
        Assert.Contains("Storage:SnapshotArchiveDays '-1': expected 0 (no archive) to 3650 days", output);
        Assert.Contains("Pipeline:DeliveryDrainSeconds '601': expected 0 to 600 seconds", output);
    }

    [Fact]
    public void Config_validate_accepts_the_shipped_defaults_and_a_file_of_its_own()
    {
        var (exit, output) = DaemonProcess.Run(["config", "validate", $"--Storage:Path={temp.Path}"]);
        Assert.True(exit == 0, output);
        Assert.Contains("configuration is valid: 1 camera(s) (virtual=virtual)", output);
        Assert.Contains("embedded on 127.0.0.1:1883", output);
        Assert.Contains("HMI http://127.0.0.1:8090/hmi/ (no login: loopback only)", output);

        string file = Path.Combine(temp.Path, "station.json");
        File.WriteAllText(file, """
            {
              // a config file of a station: comments allowed
              "Station": { "Site": "berlin", "Line": "l2", "Station": "s7" },
              "Cameras": [ { "Name": "top", "Source": "rtsp://cam/stream" }, { "Name": "side", "Source": "folder:/srv/parts" } ],
              "Mqtt": { "Host": "broker.plant", "Port": 8883 }
            }
            """);
        (exit, output) = DaemonProcess.Run(["config", "validate", file, $"--Storage:Path={temp.Path}", "--Mqtt:Port=1884"]);
        Assert.True(exit == 0, output);
        Assert.Contains("2 camera(s) (top=rtsp://cam/stream, side=folder:/srv/parts), broker broker.plant:1884", output);
    }

    [Fact]
    public void A_cameras_password_is_masked_in_what_config_validate_says_and_in_a_refusal()
    {
        var (exit, output) = DaemonProcess.Run(["config", "validate", $"--Storage:Path={temp.Path}", "--Cameras:0:Name=top", "--Cameras:0:Source=rtsp://admin:s3cret@cam.local/live"]);
        Assert.True(exit == 0, output);
        Assert.Contains("top=rtsp://***@cam.local/live", output);
        Assert.DoesNotContain("s3cret", output);

        (exit, output) = DaemonProcess.Run(["config", "validate", $"--Storage:Path={temp.Path}", "--Cameras:0:Name=top", "--Cameras:0:Source=rtmp://admin:s3cret@cam.local/live"]);
        Assert.Equal(2, exit);
        Assert.Contains("Cameras:0:Source 'rtmp://***@cam.local/live': expected", output);
        Assert.DoesNotContain("s3cret", output);
    }

    [Fact]
    public async Task Environment_variables_override_the_file_and_a_missing_config_file_is_named()
    {
        using var process = DaemonProcess.Start(["config", "validate", $"--Storage:Path={temp.Path}"], new Dictionary<string, string> { ["DEFECTINSPECTOR_Mqtt__Port"] = "99999" });
        Assert.Equal(2, await process.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("Mqtt:Port '99999'", process.Output);

        var (exit, output) = DaemonProcess.Run(["run", "--config", Path.Combine(temp.Path, "missing.json")]);
        Assert.Equal(2, exit);
        Assert.Contains("missing.json': file not found", output);
    }
}
