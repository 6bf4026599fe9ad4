using System.Diagnostics;
using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>
/// The daemon against a Mosquitto as a plant would run it: TLS with a private CA (certificates made by openssl),
/// a password file and an ACL that confines each station to its own topics.
/// </summary>
public sealed class SecurityTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>, IDisposable
{
    private const string Password = "s3cret-line-7";
    private readonly OpensslPki pki = new();
    private readonly string work = fixture.NewFolder("security");
    private readonly int plainPort = MosquittoBroker.FreePort();

    public void Dispose() => pki.Dispose();

    [Fact]
    public async Task With_the_right_CA_and_password_the_daemon_publishes_over_TLS_and_never_shows_the_password()
    {
        using var broker = StartBroker();
        await using var observer = await TestSubscriber.ConnectAsync(plainPort, ["secure/#"], username: "observer", password: "observer-pw");
        using var daemon = Start(broker, prefix: "secure", passwordFile: WritePassword(Password));

        await observer.WaitForAsync(m => Messages.Kind(m.Topic) == "verdict", TimeSpan.FromSeconds(90), "a verdict over TLS");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain(Password, daemon.Output);
        Assert.DoesNotContain(observer.Received, m => m.Text.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_password_stops_start_up_naming_the_broker_and_the_reason()
    {
        using var broker = StartBroker();
        using var daemon = Start(broker, prefix: "secure", passwordFile: WritePassword("not-it"));
        Assert.Equal(1, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains($"127.0.0.1:{broker.Port}", daemon.Output);
        Assert.Contains("not authori", daemon.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("not-it", daemon.Output);
    }

    [Fact]
    public async Task A_broker_certificate_from_another_CA_is_refused_as_a_TLS_failure()
    {
        using var broker = StartBroker();
        using var stranger = new OpensslPki();
        using var daemon = Start(broker, prefix: "secure", passwordFile: WritePassword(Password), caFile: stranger.CaFile);
        Assert.Equal(1, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains("TLS", daemon.Output);
        Assert.Contains($"127.0.0.1:{broker.Port}", daemon.Output);
    }

    [Fact]
    public async Task Publishing_outside_the_stations_ACL_is_refused_by_the_broker_and_said_in_the_log()
    {
        using var broker = StartBroker();
        await using var observer = await TestSubscriber.ConnectAsync(plainPort, ["#"], username: "observer", password: "observer-pw");
        using var daemon = Start(broker, prefix: "elsewhere", passwordFile: WritePassword(Password));

        var clock = Stopwatch.StartNew();
        const string Verdicts = "elsewhere/plant/line1/st1/verdict/virtual";
        while (!daemon.Output.Contains(Verdicts, StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(90) && !daemon.HasExited)
            await Task.Delay(250);
        daemon.Terminate();
        await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains(daemon.Output.Split('\n'), l => l.Contains(Verdicts, StringComparison.Ordinal) && l.Contains("NotAuthorized", StringComparison.Ordinal)
            && (l.Contains("refused", StringComparison.OrdinalIgnoreCase) || l.Contains("rejected", StringComparison.OrdinalIgnoreCase)));
        Assert.DoesNotContain(observer.Received, m => m.Topic.StartsWith("elsewhere/", StringComparison.Ordinal) && Messages.Kind(m.Topic) == "verdict");
    }

    private MosquittoBroker StartBroker() => MosquittoBroker.Start(
        listener: $"""
            per_listener_settings false
            allow_anonymous false
            password_file {"{dir}"}/passwd
            acl_file {"{dir}"}/acl
            listener {"{port}"} 127.0.0.1
            cafile {pki.CaFile}
            certfile {pki.ServerCertificateFile}
            keyfile {pki.ServerKeyFile}
            listener {plainPort} 127.0.0.1
            """,
        prepare: dir =>
        {
            File.WriteAllText(Path.Combine(dir, "acl"), """
                user station-st1
                topic readwrite secure/plant/line1/st1/#

                user observer
                topic read #
                """);
            RunMosquittoPasswd(Path.Combine(dir, "passwd"), "station-st1", Password, create: true);
            RunMosquittoPasswd(Path.Combine(dir, "passwd"), "observer", "observer-pw", create: false);
        });

    private DaemonProcess Start(MosquittoBroker broker, string prefix, string passwordFile, string? caFile = null) =>
        DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, $"state-{Guid.NewGuid():N}"),
            $"--Mqtt:Port={broker.Port}", $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=st1",
            "--Mqtt:UseTls=true", $"--Mqtt:CaFile={caFile ?? pki.CaFile}", "--Mqtt:Username=station-st1", $"--Mqtt:PasswordFile={passwordFile}",
            "--Cameras:0:Name=virtual", "--Cameras:0:Source=virtual", "--Cameras:0:VirtualFps=5"));

    private string WritePassword(string password)
    {
        string file = Path.Combine(work, $"password-{Guid.NewGuid():N}");
        File.WriteAllText(file, password + "\n");
        return file;
    }

    private static void RunMosquittoPasswd(string file, string user, string password, bool create) =>
        Tool.Run("mosquitto_passwd", "the broker's password file is made with it (apt-get install mosquitto)",
            create ? ["-c", "-b", file, user, password] : ["-b", file, user, password]);
}
