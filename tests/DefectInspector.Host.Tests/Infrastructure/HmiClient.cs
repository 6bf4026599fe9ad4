using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>The HMI's JSON API over real HTTP, with a cookie jar like a browser's.</summary>
internal sealed class HmiClient : IDisposable
{
    private readonly HttpClient http;

    public HmiClient(string url)
    {
        http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(url) };
        Url = url;
    }

    public string Url { get; }

    public static async Task<HmiClient> WhenUpAsync(string url, DaemonProcess daemon, TimeSpan timeout)
    {
        var client = new HmiClient(url);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (daemon.HasExited) throw new InvalidOperationException($"daemon exited ({daemon.ExitCode}):\n{daemon.Output}");
            try
            {
                if ((await client.http.GetAsync("/hmi/")).IsSuccessStatusCode) return client;
            }
            catch (HttpRequestException) when (clock.Elapsed < timeout)
            {
            }
            if (clock.Elapsed > timeout) throw new TimeoutException($"HMI at {url} not up within {timeout.TotalSeconds} s:\n{daemon.Output}");
            await Task.Delay(250);
        }
    }

    public Task<HttpResponseMessage> GetAsync(string path) => http.GetAsync(path);

    public Task<HttpResponseMessage> PostJsonAsync(string path, object body) => http.PostAsJsonAsync(path, body);

    /// <summary>A request as built by the test, e.g. with the Host, Origin or X-Forwarded-* headers a browser or proxy would send.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => http.SendAsync(request);

    public Task<HttpResponseMessage> LoginAsync(string user, string password) => PostJsonAsync("/hmi/api/login", new { user, password });

    public async Task<JsonNode> JsonAsync(string path)
    {
        var response = await http.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Polls the review queue until it holds a part; returns the newest.</summary>
    public async Task<JsonObject> WaitForQueuedPartAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if ((await JsonAsync("/hmi/api/queue")).AsArray() is { Count: > 0 } queue) return queue[0]!.AsObject();
            await Task.Delay(500);
        }
        throw new TimeoutException($"no part in the review queue within {timeout.TotalSeconds} s");
    }

    public void Dispose() => http.Dispose();
}
