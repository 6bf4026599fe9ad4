using DefectInspector.Core.Decision;
using DefectInspector.Core.Naming;
using DefectInspector.Core.Statistics;
using DefectInspector.Host.Capture;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace DefectInspector.Host.Tests.Units;

public sealed class PipelinePartsTests
{
    [Theory]
    [InlineData(0.10f, Verdict.Ok)]
    [InlineData(0.44f, Verdict.Ok)]
    [InlineData(0.46f, Verdict.Uncertain)]
    [InlineData(0.50f, Verdict.Uncertain)]
    [InlineData(0.54f, Verdict.Uncertain)]
    [InlineData(0.56f, Verdict.Ng)]
    public void A_score_near_the_threshold_is_uncertain_above_it_ng_below_it_ok(float score, Verdict expected) =>
        Assert.Equal(expected, new DecisionThresholds(0.5f, 0.05f).Decide(score));

    [Fact]
    public void Without_an_uncertain_band_the_threshold_itself_is_ng() =>
        Assert.Equal([Verdict.Ok, Verdict.Ng], new[] { 0.299f, 0.3f }.Select(new DecisionThresholds(0.3f).Decide));

    [Theory]
    [InlineData("10,20,300,200", true)]
    [InlineData(" 0, 0, 64, 64 ", true)]
    [InlineData("10,20,0,200", false)]
    [InlineData("-1,0,10,10", false)]
    [InlineData("1,2,3", false)]
    [InlineData("a,b,c,d", false)]
    public void A_region_of_interest_is_four_non_negative_integers_with_a_size(string text, bool valid) =>
        Assert.Equal(valid, RegionOfInterest.TryParse(text, out _));

    [Theory]
    [InlineData("press-1", true)]
    [InlineData("line_2.a", true)]
    [InlineData("a/b", false)]
    [InlineData("+", false)]
    [InlineData("#", false)]
    [InlineData("with space", false)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("..x", true)]
    public void Topic_names_allow_no_wildcards_or_separators(string name, bool valid) => Assert.Equal(valid, TopicName.IsValid(name));

    [Fact]
    public void A_host_name_becomes_a_topic_safe_station_name() =>
        Assert.Equal("line-pc_7.local", TopicName.Sanitise("line pc_7.local"));

    [Fact]
    public void A_stage_is_stalled_only_while_one_call_has_not_returned_for_longer_than_the_limit()
    {
        var clock = new FakeTimeProvider();
        var monitor = new StageMonitor(clock);
        Assert.Null(monitor.Stalled(TimeSpan.Zero));
        using (monitor.Busy("camera 'a'"))
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            Assert.Equal("camera 'a'", monitor.Stalled(TimeSpan.FromMilliseconds(20))?.Stage);
            Assert.Null(monitor.Stalled(TimeSpan.FromSeconds(10)));
        }
        Assert.Null(monitor.Stalled(TimeSpan.Zero));
        Assert.Equal(1, monitor.Completed);
    }

    [Fact]
    public void Camera_status_changes_are_reported_once()
    {
        var board = new CameraStatusBoard();
        var seen = new List<string>();
        board.Changed += m => seen.Add($"{m.Camera}:{m.State}:{m.Reason}");
        board.Set("a", CameraStates.Offline, "starting");
        board.Set("a", CameraStates.Online);
        board.Set("a", CameraStates.Online);
        board.Set("a", CameraStates.Offline, "stream ended");
        Assert.Equal(["a:offline:starting", "a:online:", "a:offline:stream ended"], seen);
        Assert.Equal(CameraStates.Offline, board.States["a"]);
    }

    [Fact]
    public void A_live_camera_takes_a_trigger_with_the_first_frame_captured_after_it()
    {
        var inbox = new TriggerInbox("top", capacity: 4);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        Assert.True(inbox.TryPost(Pending("P-1", DateTimeOffset.MaxValue)));
        Assert.Null(inbox.TakeIfDue(before));
        Assert.Equal("P-1", inbox.TakeIfDue(DateTimeOffset.UtcNow.AddSeconds(1))?.PartId);
        Assert.Null(inbox.TakeIfDue(DateTimeOffset.UtcNow.AddSeconds(2)));
    }

    [Fact]
    public async Task A_trigger_inbox_is_bounded_and_gives_up_expired_and_flushed_triggers_in_order()
    {
        var now = DateTimeOffset.UtcNow;
        var inbox = new TriggerInbox("top", capacity: 3);
        Assert.True(inbox.TryPost(Pending("P-1", now.AddSeconds(10))));
        Assert.True(inbox.TryPost(Pending("P-2", now.AddSeconds(1))));
        Assert.True(inbox.TryPost(Pending("P-3", now.AddSeconds(10))));
        Assert.False(inbox.TryPost(Pending("P-4", now.AddSeconds(10))));

        Assert.Equal(["P-2"], inbox.RemoveExpired(now.AddSeconds(2)).Select(p => p.PartId));
        Assert.Equal("P-1", (await inbox.ReadAsync(CancellationToken.None)).PartId);
        Assert.Equal(["P-3"], inbox.RemoveAll().Select(p => p.PartId));
        Assert.Equal(0, inbox.Count);
        // The counts that removed triggers left behind must not hand out a trigger that is gone.
        using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await inbox.ReadAsync(soon.Token));
    }

    private static TriggerInbox.Pending Pending(string partId, DateTimeOffset deadline) =>
        new(new TriggerRequest("top", "t/trigger/top", new TriggerCommand(partId), null, null, ReadOnlyMemory<byte>.Empty, DateTimeOffset.UtcNow.AddMilliseconds(-10), null), deadline);

    [Theory]
    [InlineData(100, 0.99, 98)]
    [InlineData(100, 0.5, 49)]
    [InlineData(20, 0.95, 18)]
    [InlineData(3, 1.0, 2)]
    [InlineData(1, 0.01, 0)]
    public void Nearest_rank_quantiles_do_not_round_up_on_float_noise(int count, double q, int index) =>
        Assert.Equal(index, Percentiles.NearestRank(count, q));

    [Fact]
    public void A_quantile_of_nothing_is_not_a_number() => Assert.True(double.IsNaN(Percentiles.OfSorted([], 0.5)));
}
