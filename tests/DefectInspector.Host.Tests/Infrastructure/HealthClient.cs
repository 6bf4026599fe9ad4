using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>Asks a daemon's health endpoints on 127.0.0.1:<see cref="Port"/>.</summary>
internal sealed class HealthClient(int port) : IDisposable
{
    private readonly HttpClient http = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

    public int Port => port;

    public string Url => $"http://127.0.0.1:{port}";

    public sealed record Answer(int Status, string Body)
    {
        public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

        public override string ToString() => $"HTTP {Status} {Body}";
    }

    /// <summary>The answer; status 0 while nothing listens.</summary>
    public async Task<Answer> GetAsync(string path)
    {
        try
        {
            using var response = await http.GetAsync(path);
            return new Answer((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e)
        {
            return new Answer(0, e.Message);
        }
    }

    /// <summary>Asks every 250 ms until the answer matches; fails with the last answer and the daemon's output.</summary>
    public async Task<Answer> WaitForAsync(string path, Func<Answer, bool> match, TimeSpan timeout, DaemonProcess daemon, string what)
    {
        var clock = Stopwatch.StartNew();
        Answer last;
        while (!match(last = await GetAsync(path)))
        {
            if (daemon.HasExited) throw new InvalidOperationException($"daemon exited ({daemon.ExitCode}) before {what}; {path} said {last}\n{daemon.Output}");
            if (clock.Elapsed > timeout) throw new TimeoutException($"no {what} within {timeout.TotalSeconds} s; {path} said {last}\n{daemon.Output}");
            await Task.Delay(250);
        }
        return last;
    }

    /// <summary>The samples of a Prometheus text exposition: "name{labels}" to value.</summary>
    public async Task<Dictionary<string, double>> MetricsAsync()
    {
        var answer = await GetAsync("/metrics");
        Assert.True(answer.Status == 200, $"/metrics: {answer}");
        return answer.Body.Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Scrapes every 250 ms until the samples match (counters are refreshed from the pipeline at each scrape).</summary>
    public async Task<Dictionary<string, double>> WaitForMetricsAsync(Func<Dictionary<string, double>, bool> match, DaemonProcess daemon)
    {
        var clock = Stopwatch.StartNew();
        Dictionary<string, double> last;
        while (!match(last = await MetricsAsync()))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"/metrics did not show what was expected within 30 s:\n{string.Join('\n', last.Where(m => m.Key.StartsWith("defectinspector_", StringComparison.Ordinal)))}\n{daemon.Output}");
            await Task.Delay(250);
        }
        return last;
    }

    public void Dispose() => http.Dispose();
}
