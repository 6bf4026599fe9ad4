using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using DefectInspector.Host.Hmi;
using DefectInspector.Host.Tests.Infrastructure;
using Microsoft.Playwright;
using OpenCvSharp;
using Xunit.Abstractions;

namespace DefectInspector.Host.Tests;

/// <summary>The operator review station: a real daemon, a real Mosquitto, and Debian's chromium driven by Playwright.</summary>
[LongRunning(50)]
public sealed class HmiTests(DaemonFixture fixture, ITestOutputHelper output) : IClassFixture<DaemonFixture>
{
    private const string OperatorPassword = "line-3-operator";
    private const string EngineerPassword = "line-3-engineer";
    private static readonly TimeSpan Up = TimeSpan.FromMinutes(2);

    [Theory]
    // Hmi:Language wins over the browser's language; auto (the default) follows the browser.
    [InlineData("en", "zh-CN", "en", "Review", "anna (operator)", "false-reject")]
    [InlineData("auto", "zh-CN", "zh-CN", "复检", "anna（操作员）", "误判")]
    public async Task An_operator_logs_in_sees_a_flagged_part_arrive_without_reloading_and_dispositions_it(
        string configured, string browserLocale, string language, string reviewTab, string userText, string falseReject)
    {
        string work = fixture.NewFolder("hmi-review");
        string drop = Directory.CreateDirectory(Path.Combine(work, "drop")).FullName;
        string state = Path.Combine(work, "state");
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        string url = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(state, [$"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=drop", $"--Cameras:0:Source=folder:{drop}",
            $"--Hmi:Url={url}", $"--Hmi:Language={configured}", .. Users()]));
        using var api = await HmiClient.WhenUpAsync(url, daemon, Up);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 }, Locale = browserLocale });
        await page.GotoAsync(url + "/hmi/");
        Assert.Equal(language, await page.GetAttributeAsync("html", "lang"));
        await page.FillAsync("#login-user", "anna");
        await page.FillAsync("#login-password", OperatorPassword);
        await page.ClickAsync("#login-form button[type=submit]");
        await page.Locator("#user", new PageLocatorOptions { HasText = userText }).WaitForAsync();
        Assert.StartsWith(reviewTab, (await page.Locator(".tab[data-view=review]").TextContentAsync())!.Trim());
        await page.ClickAsync(".tab[data-view=review]");
        await page.Locator("#detail .empty").WaitForAsync();
        Assert.True(await page.Locator("#live").IsHiddenAsync(), "the live view still shows under the review view");
        // Marks this document: a reload would start a new one without the mark.
        await page.EvaluateAsync("() => { window.sameDocument = true; }");

        PartImages.Write(drop, 4);
        var first = page.Locator("#queue li.part").First;
        await first.WaitForAsync(new LocatorWaitForOptions { Timeout = 90_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded to show the part");
        string id = (await first.GetAttributeAsync("data-id"))!;
        await first.ClickAsync();
        await page.Locator($"#detail .layout[data-id='{id}'] #overlay").WaitForAsync();
        await page.FillAsync("#comment", "dust on the lens");
        string screenshot = Chromium.Artefact($"hmi-review-{language}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        output.WriteLine($"screenshot: {screenshot}");
        await page.ClickAsync("#false-reject");

        var review = await all.WaitForAsync(m => Messages.Kind(m.Topic) == "review", TimeSpan.FromSeconds(30), "the review message");
        var message = JsonNode.Parse(review.Text)!.AsObject();
        Assert.Equal(id, (string?)message["verdictId"]);
        Assert.Equal(id, review.Correlation);
        Assert.Equal("false-reject", (string?)message["disposition"]);
        Assert.Equal("good", (string?)message["label"]);
        Assert.Equal("anna", (string?)message["operator"]);
        Assert.Equal("dust on the lens", (string?)message["comment"]);
        Assert.EndsWith("/review/drop", review.Topic);
        var verdict = all.Received.OfKind("verdict").Json().Single(v => (string?)v["id"] == id);
        Assert.NotEqual("ok", (string?)verdict["verdict"]);
        Messages.AssertAllValid(all.Received);

        // Stored as `train --data` reads it: the frame under its label, the heatmap beside, in a hidden folder.
        string image = Path.Combine(state, "feedback", "good", id + ".png");
        await Until(() => File.Exists(image), TimeSpan.FromSeconds(15), $"{image} written");
        using (var stored = Cv2.ImRead(image))
            Assert.Equal((PartImages.Width, PartImages.Height), (stored.Width, stored.Height));
        Assert.True(File.Exists(Path.Combine(state, "feedback", FeedbackFolder.HeatmapFolder, id + ".jpg")));

        await Until(async () => (await page.Locator("#queue li.part").CountAsync()) == 0 || await page.Locator($"#queue li.part[data-id='{id}']").CountAsync() == 0,
            TimeSpan.FromSeconds(10), "the reviewed part gone from the queue");
        await page.ClickAsync(".tab[data-view=history]");
        var row = page.Locator($"#history-rows tr[data-id='{id}'] .disposition");
        await row.WaitForAsync();
        Assert.Equal(falseReject, await row.TextContentAsync());
        Assert.Equal("false-reject", await row.GetAttributeAsync("data-code"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Chromium.Artefact($"hmi-history-{language}.png") });

        // With the page still open: its event stream once held every stop until the 45 s shutdown timeout.
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Review_endpoints_refuse_strangers_operators_do_not_see_engineering_and_each_listener_serves_only_its_own()
    {
        string work = fixture.NewFolder("hmi-access");
        string url = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        string health = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"), [$"--Hmi:Url={url}", $"--Health:Url={health}", .. Users()]));
        using var stranger = await HmiClient.WhenUpAsync(url, daemon, Up);

        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/hmi/api/queue")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/hmi/api/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/hmi/api/history")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.PostJsonAsync("/hmi/api/parts/x/review", new { disposition = "confirmed" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.LoginAsync("anna", "guess")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.LoginAsync("nobody", OperatorPassword)).StatusCode);

        using var anna = new HmiClient(url);
        Assert.Equal(HttpStatusCode.OK, (await anna.LoginAsync("anna", OperatorPassword)).StatusCode);
        Assert.Equal("operator", (string?)(await anna.JsonAsync("/hmi/api/me"))["role"]);
        Assert.Equal(HttpStatusCode.OK, (await anna.GetAsync("/hmi/api/queue")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await anna.GetAsync("/hmi/api/model")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await anna.GetAsync("/hmi/api/audit")).StatusCode);
        var part = await anna.WaitForQueuedPartAsync(TimeSpan.FromSeconds(90));
        string id = (string)part["verdict"]!["id"]!;
        Assert.Equal(HttpStatusCode.BadRequest, (await anna.PostJsonAsync($"/hmi/api/parts/{id}/review", new { disposition = "maybe" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anna.PostJsonAsync("/hmi/api/parts/00000000-0000-7000-8000-000000000000/review", new { disposition = "confirmed" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anna.PostJsonAsync($"/hmi/api/parts/{id}/review", new { disposition = "confirmed" })).StatusCode);
        var again = await anna.PostJsonAsync($"/hmi/api/parts/{id}/review", new { disposition = "rework" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("reviewed already: confirmed by anna", await again.Content.ReadAsStringAsync());

        using var erik = new HmiClient(url);
        Assert.Equal(HttpStatusCode.OK, (await erik.LoginAsync("erik", EngineerPassword)).StatusCode);
        var model = await erik.JsonAsync("/hmi/api/model");
        Assert.Equal(fixture.FirstStartVerdict["model"]!["sha256"]!.ToString(), (string?)model["reference"]!["sha256"]);
        Assert.NotEmpty(model["bundle"]!["classes"]!.AsArray());
        var audit = (await erik.JsonAsync("/hmi/api/audit")).AsArray().Select(a => $"{a!["user"]} {a["action"]}").ToList();
        Assert.Contains("anna login-failed", audit);
        Assert.Contains("nobody login-failed", audit);
        Assert.Contains("anna login", audit);
        Assert.Contains("anna disposition", audit);

        // The health endpoints have no login: they must not answer on the HMI's port, nor the HMI on theirs.
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync("/metrics")).StatusCode);
        using var plain = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync(health + "/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await plain.GetAsync(health + "/hmi/api/me")).StatusCode);

        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_disposition_taken_while_the_broker_is_away_reaches_MES_after_the_daemon_is_killed_and_started_again()
    {
        string work = fixture.NewFolder("hmi-restart");
        string drop = Directory.CreateDirectory(Path.Combine(work, "drop")).FullName;
        string state = Path.Combine(work, "state");
        using var broker = MosquittoBroker.Start();
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        string url = $"http://127.0.0.1:{MosquittoBroker.FreePort()}";
        // Loopback without users: the screen at the station reviews as operator "local".
        var args = fixture.RunArgs(broker.Port, state, $"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=drop", $"--Cameras:0:Source=folder:{drop}", $"--Hmi:Url={url}");
        PartImages.Write(drop, 4);

        string id;
        using (var daemon = DaemonProcess.Start(args))
        {
            using var api = await HmiClient.WhenUpAsync(url, daemon, Up);
            id = (string)(await api.WaitForQueuedPartAsync(TimeSpan.FromSeconds(90)))["verdict"]!["id"]!;
            broker.Stop();
            var decided = await api.PostJsonAsync($"/hmi/api/parts/{id}/review", new { disposition = "rework", comment = "edge chip, grind" });
            Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(1));
            daemon.KillHard();
            await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        broker.Restart();
        await using var mes = await TestSubscriber.ConnectAsync(broker.Port, [$"{prefix}/+/+/+/review/#"]);
        using (var daemon = DaemonProcess.Start(args))
        {
            var review = await mes.WaitForAsync(m => m.Correlation == id, TimeSpan.FromSeconds(120), "the review decided before the kill");
            var message = JsonNode.Parse(review.Text)!.AsObject();
            Assert.Equal("rework", (string?)message["disposition"]);
            Assert.Equal("local", (string?)message["operator"]);
            Assert.Equal("edge chip, grind", (string?)message["comment"]);
            Assert.NotEqual("good", (string?)message["label"]);
            Messages.AssertAllValid(mes.Received);

            using var api = await HmiClient.WhenUpAsync(url, daemon, Up);
            Assert.DoesNotContain((await api.JsonAsync("/hmi/api/queue")).AsArray(), p => (string?)p!["verdict"]!["id"] == id);
            var history = (await api.JsonAsync("/hmi/api/history?disposition=rework")).AsArray();
            Assert.Contains(history, p => (string?)p!["verdict"]!["id"] == id);
            Assert.True(File.Exists(Path.Combine(state, "feedback", (string)message["label"]!, id + ".png")));
            daemon.Terminate();
            Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }
    }

    private static string[] Users() =>
    [
        "--Hmi:Users:0:Name=anna", $"--Hmi:Users:0:PasswordHash={Passwords.Hash(OperatorPassword)}",
        "--Hmi:Users:1:Name=erik", "--Hmi:Users:1:Role=engineer", $"--Hmi:Users:1:PasswordHash={Passwords.Hash(EngineerPassword)}",
    ];

    private static Task Until(Func<bool> condition, TimeSpan timeout, string what) => Until(() => Task.FromResult(condition()), timeout, what);

    private static async Task Until(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(200);
        }
    }
}
