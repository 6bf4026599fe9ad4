using System.Threading.Channels;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DefectInspector.Host.Tests.Units;

public sealed class ResilienceUnitTests
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Five_failures_open_the_circuit_then_one_attempt_per_break_until_it_succeeds()
    {
        var clock = new SteppedClock();
        var events = new List<string>();
        int attempts = 0;
        var pipeline = Pipeline(clock, events);

        var run = pipeline.ExecuteAsync(_ =>
        {
            events.Add($"attempt {++attempts}");
            return attempts < 7 ? throw new IOException($"fail {attempts}") : ValueTask.FromResult(attempts);
        }).AsTask();
        var waits = new List<TimeSpan>();
        for (int i = 0; i < 6; i++) waits.Add(await clock.PassNextWaitAsync());

        Assert.Equal(7, await run);
        Assert.Equal([
            "attempt 1", "retry", "attempt 2", "retry", "attempt 3", "retry", "attempt 4", "retry",
            "attempt 5", "opened for 60 s: fail 5", "half-open",
            "attempt 6", "opened for 60 s: fail 6", "half-open",
            "attempt 7", "closed"], events);
        // The backoff waits its own (jittered) delays until the circuit opens, then exactly until its one attempt.
        Assert.All(waits[..4], w => Assert.InRange(w, TimeSpan.Zero, TimeSpan.FromSeconds(30)));
        Assert.Equal([Break, Break], waits[4..]);
    }

    [Fact]
    public async Task Failures_with_a_success_between_them_leave_the_circuit_closed()
    {
        var clock = new SteppedClock();
        var events = new List<string>();
        var pipeline = Pipeline(clock, events);

        for (int round = 0; round < 2; round++)
        {
            int attempts = 0;
            var run = pipeline.ExecuteAsync(_ => ++attempts < 5 ? throw new IOException("fail") : ValueTask.FromResult(attempts)).AsTask();
            for (int i = 0; i < 4; i++) Assert.InRange(await clock.PassNextWaitAsync(), TimeSpan.Zero, TimeSpan.FromSeconds(30));
            Assert.Equal(5, await run);
        }

        Assert.Equal(Enumerable.Repeat("retry", 8), events);
    }

    [Fact]
    public void A_stage_stuck_past_StallExitSeconds_is_reported_with_the_stage_stalled_alarm()
    {
        var (clock, monitor, alarms, exit) = StallExit(stallExitSeconds: 120);

        using (monitor.Busy("camera 'a'"))
        {
            clock.Advance(TimeSpan.FromSeconds(200));
        }
        using (monitor.Busy("inspection"))
        {
            clock.Advance(TimeSpan.FromSeconds(119));
            Assert.Null(exit.Check());
            Assert.Null(alarms.Current);

            clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(("inspection", TimeSpan.FromSeconds(121)), exit.Check());
        }
        var alarm = Assert.Single(alarms.Current!);
        Assert.Equal(AlarmCodes.StageStalled, alarm.Code);
        Assert.Contains("inspection stuck in one call for 121 s", alarm.Message);
    }

    [Fact]
    public void With_StallExitSeconds_0_no_stall_stops_the_daemon()
    {
        var (clock, monitor, alarms, exit) = StallExit(stallExitSeconds: 0);
        using (monitor.Busy("inspection"))
        {
            clock.Advance(TimeSpan.FromDays(1));
            Assert.Null(exit.Check());
        }
        Assert.Null(alarms.Current);
    }

    [Theory]
    [InlineData(30, 0, 60, null)]
    [InlineData(30, 31, 31, null)]
    [InlineData(30, 30, 60, "Pipeline:StallExitSeconds '30': expected 0 (never) or more than Pipeline:StallTimeoutSeconds (30), up to 86400 seconds")]
    [InlineData(10, -1, 60, "Pipeline:StallExitSeconds '-1': expected 0 (never) or more than Pipeline:StallTimeoutSeconds (10)")]
    [InlineData(30, 120, 30, "Pipeline:CameraBreakSeconds '30': expected 31 to 3600 seconds")]
    [InlineData(30, 120, 3601, "Pipeline:CameraBreakSeconds '3601': expected 31 to 3600 seconds")]
    public void Stall_exit_and_camera_break_are_validated(int stallTimeout, int stallExit, int cameraBreak, string? expected)
    {
        var result = new PipelineOptionsValidator().Validate(null,
            new PipelineOptions { StallTimeoutSeconds = stallTimeout, StallExitSeconds = stallExit, CameraBreakSeconds = cameraBreak });
        if (expected is null)
            Assert.True(result.Succeeded, result.FailureMessage);
        else
            Assert.StartsWith(expected, Assert.Single(result.Failures!));
    }

    private static Polly.ResiliencePipeline<int> Pipeline(SteppedClock clock, List<string> events) =>
        Backoff.Forever<int, IOException>(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), _ =>
            {
                events.Add("retry");
                return default;
            },
            new CircuitBreak(5, TimeSpan.FromMinutes(2), Break,
                Opened: (e, next) => events.Add($"opened for {(next - clock.GetUtcNow()).TotalSeconds:0} s: {e?.Message}"),
                HalfOpened: () => events.Add("half-open"),
                Closed: () => events.Add("closed")),
            clock);

    private static (FakeTimeProvider Clock, StageMonitor Monitor, AlarmBoard Alarms, StallExit Exit) StallExit(int stallExitSeconds)
    {
        var clock = new FakeTimeProvider();
        var monitor = new StageMonitor(clock);
        var alarms = new AlarmBoard(NullLogger<AlarmBoard>.Instance);
        var exit = new StallExit(monitor, alarms, Microsoft.Extensions.Options.Options.Create(new PipelineOptions { StallExitSeconds = stallExitSeconds }),
            new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), NullLogger<StallExit>.Instance);
        return (clock, monitor, alarms, exit);
    }

    /// <summary>A fake clock that tells when the code under test starts waiting on it, so a test can let exactly that wait pass.</summary>
    private sealed class SteppedClock : FakeTimeProvider
    {
        private readonly Channel<TimeSpan> waits = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime != Timeout.InfiniteTimeSpan) waits.Writer.TryWrite(dueTime);
            return timer;
        }

        /// <summary>Waits until the code under test waits on this clock, then moves the clock to that wait's end.</summary>
        public async Task<TimeSpan> PassNextWaitAsync()
        {
            var due = await waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Advance(due);
            return due;
        }
    }
}
