using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using DefectInspector.Host.Hmi;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>The HMI against requests a browser on another site, a DNS-rebinding page, a reverse proxy or a flooder would send.</summary>
public sealed class HmiHardeningTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private const string OperatorPassword = "line-3-operator";
    private const string EngineerPassword = "line-3-engineer";
    private static readonly TimeSpan Up = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Without_users_only_loopback_host_names_are_served_and_changes_need_the_HMIs_own_origin()
    {
        string url = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        int port = new Uri(url).Port;
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(fixture.NewFolder("hmi-rebinding"), "state"), $"--Hmi:Url={url}"));
        using var api = await HmiClient.WhenUpAsync(url, daemon, Up);

        // A DNS-rebinding page: the browser connects to 127.0.0.1 but names the attacker's host.
        var rebound = await api.SendAsync(Request(HttpMethod.Get, "/hmi/api/queue", host: $"rebound.example:{port}"));
        Assert.Equal(HttpStatusCode.Forbidden, rebound.StatusCode);
        Assert.Contains("host 'rebound.example", await ErrorAsync(rebound));
        Assert.Equal(HttpStatusCode.Forbidden, (await api.SendAsync(Request(HttpMethod.Post, "/hmi/api/parts/x/review", host: $"rebound.example:{port}",
            origin: $"http://rebound.example:{port}", json: new { disposition = "confirmed" }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(Request(HttpMethod.Get, "/hmi/api/queue", host: $"localhost:{port}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(Request(HttpMethod.Get, "/hmi/api/queue"))).StatusCode);

        // Another site's page posting to the station: refused; the HMI's own page: reaches the endpoint (no such part).
        var foreign = await api.SendAsync(Request(HttpMethod.Post, "/hmi/api/parts/x/review", origin: "http://evil.example", json: new { disposition = "confirmed" }));
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Contains("origin 'http://evil.example': expected", await ErrorAsync(foreign));
        Assert.Equal(HttpStatusCode.NotFound, (await api.SendAsync(Request(HttpMethod.Post, "/hmi/api/parts/x/review", origin: url, json: new { disposition = "confirmed" }))).StatusCode);

        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Failed_logins_keep_only_names_a_user_could_have_and_large_bodies_are_refused_unread()
    {
        string work = fixture.NewFolder("hmi-login-flood");
        string state = Path.Combine(work, "state");
        string url = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        using var daemon = DaemonProcess.Start(fixture.RunArgs(state, [$"--Hmi:Url={url}", .. Users()]));
        using var api = await HmiClient.WhenUpAsync(url, daemon, Up);
        string review = Path.Combine(state, ReviewStore.FolderName);
        long before = FolderBytes(review);

        string longName = new('n', 4000);
        var invalid = await api.LoginAsync(longName, "guess");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("user: expected 1-64 letters", await ErrorAsync(invalid));

        // 20 MiB announced: answered from the headers, before the body is read (so no client library, which would
        // stop at the closed connection while still sending, but the bytes a client puts on the wire).
        const int Huge = 20 * 1024 * 1024;
        Assert.StartsWith("HTTP/1.1 413", await AnnounceAsync(new Uri(url), "/hmi/api/login", Huge, "{\"user\":\"" + new string('h', 1_000)));

        using var erik = new HmiClient(url);
        Assert.Equal(HttpStatusCode.OK, (await erik.LoginAsync("erik", EngineerPassword)).StatusCode);
        var audit = (await erik.JsonAsync("/hmi/api/audit")).AsArray().Select(a => $"{a!["user"]} {a["action"]}").ToList();
        Assert.Contains("(invalid name) login-failed", audit);
        Assert.DoesNotContain(audit, a => a.Contains("nnnn", StringComparison.Ordinal) || a.Contains("hhhh", StringComparison.Ordinal));
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain("nnnnnnnn", daemon.Output);
        Assert.DoesNotContain("hhhhhhhh", daemon.Output);
        Assert.True(FolderBytes(review) - before < 1024 * 1024, $"the review store grew by {FolderBytes(review) - before} bytes");
        Assert.True(WebServer.MaxRequestBodyBytes < Huge);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_limits_count_each_browser_and_each_name_and_cookies_follow_https()
    {
        string url = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(fixture.NewFolder("hmi-proxy"), "state"),
            [$"--Hmi:Url={url}", "--Hmi:TrustedProxies:0=127.0.0.1", .. Users()]));
        using var proxy = await HmiClient.WhenUpAsync(url, daemon, Up);

        // One browser guessing through the proxy uses up its own ten tries a minute, not everyone's.
        for (int i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await proxy.SendAsync(Login($"guess{i}", "pw", from: "10.0.0.9"))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await proxy.SendAsync(Login("guess10", "pw", from: "10.0.0.9"))).StatusCode);
        var erik = await proxy.SendAsync(Login("erik", EngineerPassword, from: "10.0.0.8", https: true));
        Assert.Equal(HttpStatusCode.OK, erik.StatusCode);
        Assert.Contains(erik.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));

        // A name guessed from many addresses waits, whoever asks next; other names do not.
        for (int i = 0; i < LoginBackoff.FreeFailures; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await proxy.SendAsync(Login("anna", "wrong", from: $"10.0.1.{i}"))).StatusCode);
        var locked = await proxy.SendAsync(Login("anna", OperatorPassword, from: "10.0.2.1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After");
        Assert.Contains("user 'anna': too many failed logins", await ErrorAsync(locked));
        var plain = await proxy.SendAsync(Login("erik", EngineerPassword, from: "10.0.2.2"));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.DoesNotContain(plain.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));

        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("from 10.0.1.0", daemon.Output);
    }

    [Fact]
    public async Task Secure_cookies_can_be_required_whatever_the_scheme()
    {
        string url = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(fixture.NewFolder("hmi-secure"), "state"), [$"--Hmi:Url={url}", "--Hmi:SecureCookies=true", .. Users()]));
        using var api = await HmiClient.WhenUpAsync(url, daemon, Up);

        var login = await api.SendAsync(Login("anna", OperatorPassword, from: null));

        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Contains(login.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response) =>
        (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())?["error"] ?? "";

    /// <summary>Sends the headers of a POST of <paramref name="length"/> bytes and the start of its body; returns the status line.</summary>
    private static async Task<string> AnnounceAsync(Uri server, string path, int length, string start)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n{start}"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync() ?? "";
    }

    private static HttpRequestMessage Login(string user, string password, string? from, bool https = false)
    {
        var request = Request(HttpMethod.Post, "/hmi/api/login", json: new { user, password });
        if (from is not null) request.Headers.Add("X-Forwarded-For", from);
        if (https) request.Headers.Add("X-Forwarded-Proto", "https");
        return request;
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? host = null, string? origin = null, object? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (host is not null) request.Headers.Host = host;
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (json is not null) request.Content = JsonContent.Create(json);
        return request;
    }

    private static long FolderBytes(string folder) =>
        Directory.Exists(folder) ? new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

    private static string[] Users() =>
    [
        "--Hmi:Users:0:Name=anna", $"--Hmi:Users:0:PasswordHash={Passwords.Hash(OperatorPassword)}",
        "--Hmi:Users:1:Name=erik", "--Hmi:Users:1:Role=engineer", $"--Hmi:Users:1:PasswordHash={Passwords.Hash(EngineerPassword)}",
    ];
}
