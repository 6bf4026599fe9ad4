using System.Net.ServerSentEvents;
using DefectInspector.Host.Hmi;
using DefectInspector.Host.Options;
using DefectInspector.Publish.Contracts;
using DefectInspector.Training.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenCvSharp;

namespace DefectInspector.Host.Tests.Units;

public sealed class HmiUnitTests : IDisposable
{
    private static readonly ModelReference Model = new("demo", "1", new string('a', 64));
    private readonly TempFolder temp = new("di-hmi-");
    private readonly MutableTime clock = new(new DateTimeOffset(2026, 11, 28, 6, 0, 0, TimeSpan.Zero));

    public void Dispose() => temp.Dispose();

    [Fact]
    public void The_queue_is_newest_first_and_a_part_stored_twice_is_kept_once()
    {
        using var store = Open();
        var changes = new List<ReviewChange>();
        store.Changed += changes.Add;
        var older = Part("cam1", minutes: 0);
        var newer = Part("cam2", minutes: 1);
        store.Add(older);
        store.Add(newer);
        store.Add(older);

        Assert.Equal([newer.Verdict.Id, older.Verdict.Id], store.Queue(10).Select(p => p.Verdict.Id));
        Assert.Equal(2, store.QueueLength);
        Assert.Equal(2, changes.Count(c => c.Kind == ReviewChange.Flagged));
        var stored = store.Find(older.Verdict.Id)!;
        Assert.Equal(older.Png, File.ReadAllBytes(stored.ImageFile));
        Assert.Equal(older.Overlay, File.ReadAllBytes(stored.OverlayFile!));
    }

    [Fact]
    public void A_decision_is_taken_once_labels_the_part_and_is_audited_with_the_model()
    {
        using var store = Open();
        var rejected = Part("cam1", minutes: 0);
        var confirmed = Part("cam1", minutes: 1, probabilities: new() { ["good"] = 0.1, ["scratch"] = 0.2, ["blowhole"] = 0.7 });
        store.Add(rejected);
        store.Add(confirmed);

        var falseReject = store.Decide(rejected.Verdict.Id, Dispositions.FalseReject, "dust", "anna").Review!;
        var defect = store.Decide(confirmed.Verdict.Id, Dispositions.Confirmed, null, "erik").Review!;

        Assert.Equal("good", falseReject.Label);
        Assert.Equal("blowhole", defect.Label);
        Assert.Equal(0, store.QueueLength);
        var again = Assert.Throws<ReviewRefusedException>(() => store.Decide(rejected.Verdict.Id, Dispositions.Rework, null, "erik"));
        Assert.Contains("reviewed already: false-reject by anna", again.Message);
        Assert.True(Assert.Throws<ReviewRefusedException>(() => store.Decide("no-such-part", Dispositions.Rework, null, "erik")).NotFound);
        var audit = store.AuditTrail(10);
        Assert.Equal(["erik disposition confirmed", "anna disposition false-reject: dust"], audit.Select(a => $"{a.User} {a.Action} {a.Detail}"));
        Assert.All(audit, a => Assert.Equal("demo 1 (aaaaaaaaaaaa)", a.Model));
    }

    [Fact]
    public void Decisions_survive_reopening_and_wait_for_export_until_marked()
    {
        string id;
        using (var store = Open())
        {
            var part = Part("cam1", minutes: 0);
            store.Add(part);
            id = part.Verdict.Id;
            store.Decide(id, Dispositions.Rework, null, "anna");
        }
        using (var reopened = Open())
        {
            var waiting = Assert.Single(reopened.Unexported());
            Assert.Equal(id, waiting.Verdict.Id);
            Assert.True(File.Exists(waiting.ImageFile), "reopening removed the image of a decision not yet exported");
            var (image, overlay) = new FeedbackFolder(Path.Combine(temp.Path, "feedback")).Store(waiting, waiting.Review!.Label);
            reopened.Exported(waiting.Review.Id, id, image, overlay);
            Assert.Empty(reopened.Unexported());
            Assert.Equal(image, reopened.Find(id)!.ImageFile);
        }
    }

    [Fact]
    public void A_damaged_review_database_is_moved_aside_logged_and_the_store_starts_empty()
    {
        using (var store = Open())
        {
            store.Add(Part("cam1", minutes: 0));
        }

        string folder = Path.Combine(temp.Path, "review");
        byte[] garbage = System.Text.Encoding.ASCII.GetBytes(new string('#', 8192));
        File.WriteAllBytes(Path.Combine(folder, "review.db"), garbage);
        var log = new ListLogger();

        using var fresh = ReviewStore.Open(folder, 100, log, clock);

        Assert.Equal(0, fresh.QueueLength);
        Assert.Empty(fresh.Queue(10));
        string aside = Path.Combine(folder, "review.db.damaged-20261128T060000Z");
        Assert.Equal(garbage, File.ReadAllBytes(aside));
        Assert.True(log.Has(Microsoft.Extensions.Logging.LogLevel.Error, aside), "the error names where the damaged file went");
        Assert.Empty(Directory.GetFiles(Path.Combine(folder, "parts")));
        var part = Part("cam2", minutes: 1);
        fresh.Add(part);
        Assert.Equal([part.Verdict.Id], fresh.Queue(10).Select(p => p.Verdict.Id));
    }

    [Fact]
    public void Beyond_the_cap_the_oldest_unreviewed_parts_leave_the_queue_and_cannot_be_decided()
    {
        using var store = Open(maxQueued: 2);
        var parts = Enumerable.Range(0, 3).Select(i => Part("cam1", minutes: i)).ToList();
        foreach (var part in parts) store.Add(part);

        Assert.Equal([parts[2].Verdict.Id, parts[1].Verdict.Id], store.Queue(10).Select(p => p.Verdict.Id));
        Assert.False(File.Exists(Path.Combine(temp.Path, "review", "parts", parts[0].Verdict.Id + ".png")));
        Assert.Contains("left the review queue", Assert.Throws<ReviewRefusedException>(() => store.Decide(parts[0].Verdict.Id, Dispositions.Confirmed, null, "anna")).Message);
    }

    [Fact]
    public void History_filters_by_time_camera_verdict_and_disposition()
    {
        using var store = Open();
        var a = Part("top", minutes: 0);
        var b = Part("side", minutes: 10, verdict: "uncertain");
        var c = Part("top", minutes: 20);
        foreach (var part in new[] { a, b, c }) store.Add(part);
        store.Decide(a.Verdict.Id, Dispositions.Confirmed, null, "anna");
        store.Decide(b.Verdict.Id, Dispositions.FalseReject, null, "anna");
        store.Decide(c.Verdict.Id, Dispositions.FalseReject, null, "anna");
        var start = a.Verdict.DecidedAt;

        Ids(new HistoryQuery(null, null, null, null, null), c, b, a);
        Ids(new HistoryQuery(start.AddMinutes(5), start.AddMinutes(25), null, null, null), c, b);
        Ids(new HistoryQuery(null, null, "top", null, null), c, a);
        Ids(new HistoryQuery(null, null, null, "uncertain", null), b);
        Ids(new HistoryQuery(null, null, "top", null, Dispositions.FalseReject), c);

        void Ids(HistoryQuery query, params FlaggedPart[] expected) =>
            Assert.Equal(expected.Select(p => p.Verdict.Id), store.History(query).Select(p => p.Verdict.Id));
    }

    [Fact]
    public void The_feedback_folder_is_a_dataset_that_training_reads_with_the_heatmaps_left_out()
    {
        using var store = Open();
        var feedback = new FeedbackFolder(Path.Combine(temp.Path, "feedback"));
        var good = Part("cam1", minutes: 0);
        var bad = Part("cam1", minutes: 1);
        store.Add(good);
        store.Add(bad);
        store.Decide(good.Verdict.Id, Dispositions.FalseReject, null, "anna");
        store.Decide(bad.Verdict.Id, Dispositions.Confirmed, null, "anna");
        foreach (var part in store.Unexported())
            feedback.Store(part, part.Review!.Label);

        var dataset = DatasetReader.Open(feedback.Root, new DatasetReadOptions(Strict: true));
        Assert.Equal(DatasetFormat.ImageFolder, dataset.Format);
        Assert.Equal((1, 1), (dataset.GoodCount, dataset.DefectCount));
        Assert.Contains(dataset.Images, i => i.Path.EndsWith($"defect/{bad.Verdict.Id}.png", StringComparison.Ordinal));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(feedback.Root, FeedbackFolder.HeatmapFolder)).Length);
    }

    [Fact]
    public void Passwords_are_stored_as_salted_hashes_that_only_the_right_password_matches()
    {
        string hash = Passwords.Hash("correct horse");
        Assert.True(Passwords.IsHash(hash));
        Assert.DoesNotContain("correct horse", hash);
        Assert.NotEqual(hash, Passwords.Hash("correct horse"));
        Assert.True(Passwords.Verify(hash, "correct horse"));
        Assert.False(Passwords.Verify(hash, "correct horse!"));
        Assert.False(Passwords.Verify(null, "correct horse"));
        Assert.False(Passwords.IsHash("correct horse"));
    }

    [Fact]
    public void Options_need_users_beyond_loopback_valid_users_and_their_own_port()
    {
        var validator = new HmiOptionsValidator(Microsoft.Extensions.Options.Options.Create(new HealthOptions()));
        Assert.True(validator.Validate(null, new HmiOptions()).Succeeded);
        Assert.True(validator.Validate(null, new HmiOptions { Url = "" }).Succeeded);
        var open = new HmiOptions { Url = "http://0.0.0.0:8090" };
        Assert.True(open.LoginRequired);
        Assert.Contains("Hmi:Users '': expected at least one user", validator.Validate(null, open).FailureMessage);
        open.Users.Add(new HmiUserOptions { Name = "anna", PasswordHash = Passwords.Hash("pw") });
        Assert.True(validator.Validate(null, open).Succeeded);
        open.Users.Add(new HmiUserOptions { Name = "ANNA", Role = "boss", PasswordHash = "pw" });
        string failure = validator.Validate(null, open).FailureMessage ?? "";
        Assert.Contains("Hmi:Users:1:Name 'ANNA': expected 1-64 letters, digits, '.', '_' or '-', each name once", failure);
        Assert.Contains("Hmi:Users:1:Role 'boss': expected operator or engineer", failure);
        Assert.Contains("Hmi:Users:1:PasswordHash '(hidden)'", failure);
        Assert.DoesNotContain("'pw'", failure);
        Assert.Contains("expected a port other than Health:Url's", validator.Validate(null, new HmiOptions { Url = "http://127.0.0.1:8080" }).FailureMessage);
        Assert.False(new HmiOptions().LoginRequired);
    }

    [Fact]
    public void Trusted_proxies_must_be_addresses_and_need_users()
    {
        var validator = new HmiOptionsValidator(Microsoft.Extensions.Options.Options.Create(new HealthOptions()));
        var proxied = new HmiOptions { TrustedProxies = ["127.0.0.1", "proxy.plant"] };
        string failure = validator.Validate(null, proxied).FailureMessage ?? "";
        Assert.Contains("Hmi:TrustedProxies:1 'proxy.plant': expected the IP address of a reverse proxy", failure);
        Assert.Contains("Hmi:Users '': expected at least one user when Hmi:TrustedProxies is set", failure);
        proxied.TrustedProxies.RemoveAt(1);
        proxied.Users.Add(new HmiUserOptions { Name = "anna", PasswordHash = Passwords.Hash("pw") });
        Assert.True(validator.Validate(null, proxied).Succeeded);
    }

    [Fact]
    public void A_name_that_fails_five_times_waits_longer_after_each_further_failure_and_others_do_not()
    {
        var time = new FakeTimeProvider(clock.Start);
        var backoff = new LoginBackoff(time);
        for (int i = 0; i < LoginBackoff.FreeFailures - 1; i++) backoff.Failed("anna");
        Assert.Equal(TimeSpan.Zero, backoff.Wait("anna"));
        backoff.Failed("ANNA");
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Wait("anna"));
        Assert.Equal(TimeSpan.Zero, backoff.Wait("erik"));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.Zero, backoff.Wait("anna"));
        backoff.Failed("anna");
        Assert.Equal(TimeSpan.FromSeconds(60), backoff.Wait("anna"));
        for (int i = 0; i < 20; i++) backoff.Failed("anna");
        Assert.Equal(TimeSpan.FromMinutes(15), backoff.Wait("anna"));
        backoff.Succeeded("anna");
        Assert.Equal(TimeSpan.Zero, backoff.Wait("anna"));

        // Quiet for 15 minutes: an occasional typo does not add up to a lock.
        for (int i = 0; i < LoginBackoff.FreeFailures - 1; i++) backoff.Failed("erik");
        time.Advance(TimeSpan.FromMinutes(16));
        backoff.Failed("erik");
        Assert.Equal(TimeSpan.Zero, backoff.Wait("erik"));
    }

    [Fact]
    public void A_label_that_would_leave_the_feedback_folder_is_refused_and_nothing_is_written_outside()
    {
        using var store = Open();
        var part = Part("cam1", minutes: 0);
        store.Add(part);
        var stored = store.Find(part.Verdict.Id)!;
        var feedback = new FeedbackFolder(Path.Combine(temp.Path, "state", "feedback"));

        foreach (var label in new[] { "../../x", "..", "a/b" })
        {
            var error = Assert.Throws<ArgumentException>(() => feedback.Store(stored, label));
            Assert.Contains($"label '{label}'", error.Message);
        }

        Assert.False(Directory.Exists(Path.Combine(temp.Path, "x")));
        Assert.True(File.Exists(stored.ImageFile), "the part's image was moved although its label was refused");
        Assert.Equal(Path.Combine(feedback.Root, "defect", part.Verdict.Id + ".png"), feedback.Store(stored, "defect").Image);
    }

    [Fact]
    public async Task A_watching_page_gets_the_hello_then_decisions_and_makes_live_overlays_wanted()
    {
        var feed = new LiveFeed(liveFps: 1000);
        Assert.False(feed.WantsOverlay("cam1"));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = feed.Subscribe(new SseItem<string>("{}", "hello"), stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal("hello", events.Current.EventType);
        Assert.True(feed.WantsOverlay("cam1"));

        var verdict = Part("cam1", minutes: 0).Verdict;
        feed.Decided(verdict, [1, 2, 3]);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal("verdict", events.Current.EventType);
        Assert.Contains(verdict.Id, events.Current.Data);
        Assert.Equal(verdict.Id, feed.Frame("cam1")!.VerdictId);
        await events.DisposeAsync();
        Assert.Equal(0, feed.Watchers);
        Assert.False(feed.WantsOverlay("cam2"));
    }

    private ReviewStore Open(int maxQueued = 100) => ReviewStore.Open(Path.Combine(temp.Path, "review"), maxQueued, NullLogger.Instance, clock);

    private FlaggedPart Part(string camera, int minutes, string verdict = "ng", Dictionary<string, double>? probabilities = null)
    {
        var at = clock.Start.AddMinutes(minutes);
        using var image = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(minutes * 10 % 255));
        var message = new VerdictMessage
        {
            Id = Guid.CreateVersion7(at).ToString(), Site = "plant", Line = "l1", Station = "st1", Camera = camera, FrameRef = $"f{minutes}.png",
            CapturedAt = at, DecidedAt = at, Verdict = verdict, ResultCode = verdict, ResultNumber = ResultCodes.Number(verdict), DefectScore = 0.9, PredictedClass = "defect",
            Probabilities = probabilities ?? new Dictionary<string, double> { ["good"] = 0.1, ["defect"] = 0.9 },
            Threshold = 0.5, UncertainMargin = 0, Width = 64, Height = 48, Regions = [], Model = Model, ConfigHash = new string('0', 64), Method = "cam", Layer = "layer4", TimingsMs = new Dictionary<string, double>(),
        };
        return new FlaggedPart(message, "good", image.ImEncode(".png"), image.ImEncode(".jpg"));
    }

    private sealed class MutableTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Start { get; } = start;

        public override DateTimeOffset GetUtcNow() => Start;
    }
}
