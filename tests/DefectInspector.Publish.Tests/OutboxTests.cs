using System.Collections.Concurrent;
using System.Text;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace DefectInspector.Publish.Tests;

/// <summary>The SQLite outbox in process: order across reopening, all-or-nothing frames, the size cap, a full disk.</summary>
public sealed class OutboxTests : IDisposable
{
    private const long Megabyte = 1024 * 1024;

    private readonly string folder = Directory.CreateTempSubdirectory("di-outbox-").FullName;
    private readonly RecordingAlarms alarms = new();
    private readonly ListLogger log = new();

    private string DbPath => Path.Combine(folder, SqliteOutbox.FileName);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Messages_come_back_in_append_order_after_the_database_is_reopened_and_sequences_never_repeat()
    {
        long lastBefore;
        using (var outbox = Open())
        {
            outbox.Append(Frame("a", 3), OutboxPriority.Critical);
            outbox.Append(Frame("b", 1), OutboxPriority.Routine);
            outbox.Append(Frame("c", 2), OutboxPriority.Routine);
            var all = outbox.Read(0, 100);
            outbox.Remove(all[0].Sequence);
            lastBefore = all[^1].Sequence;
            Assert.Equal(5, outbox.Depth);
        }

        using (var reopened = Open())
        {
            var entries = reopened.Read(0, 100);
            Assert.Equal(["a/1", "a/2", "b/0", "c/0", "c/1"], entries.Select(e => Text(e.Message)));
            Assert.Equal(5, reopened.Depth);
            Assert.Equal(entries.Select(e => e.Sequence).Order(), entries.Select(e => e.Sequence));
            var b = entries[2].Message;
            Assert.Equal(("t/b", "application/json", true, "b"), (b.Topic, b.ContentType, b.Retain, b.CorrelationId));
            Assert.Equal(["c/1"], reopened.Read(entries[3].Sequence, 100).Select(e => Text(e.Message)));

            foreach (var entry in entries)
            {
                reopened.Remove(entry.Sequence);
            }
        }

        using var emptied = Open();
        Assert.Equal(0, emptied.Depth);
        Assert.Equal(TimeSpan.Zero, emptied.OldestAge);
        emptied.Append(Frame("d", 1), OutboxPriority.Routine);
        Assert.True(emptied.Read(0, 1).Single().Sequence > lastBefore, "a sequence number was used again after the outbox emptied");
        Assert.True(emptied.OldestAge >= TimeSpan.Zero);
    }

    [Fact]
    public void A_frame_is_stored_whole_or_not_at_all()
    {
        using var outbox = Open();
        outbox.Append(Frame("before", 1), OutboxPriority.Critical);
        outbox.LimitPages(outbox.PageCount + 2);

        var frame = new List<OutgoingMessage>(Frame("big", 1)) { new("t/big/snapshot", new byte[200_000], "image/jpeg", true, "big") };
        var failure = Assert.Throws<OutboxWriteException>(() => outbox.Append(frame, OutboxPriority.Critical));

        Assert.True(failure.DiskFull);
        Assert.Equal(["before/0"], outbox.Read(0, 100).Select(e => Text(e.Message)));
        Assert.Equal(1, outbox.Depth);
    }

    [Fact]
    public void A_full_disk_fails_the_append_raises_an_alarm_and_clears_it_when_space_returns()
    {
        using var outbox = Open();
        outbox.Append(Frame("a", 1), OutboxPriority.Critical);
        outbox.LimitPages(outbox.PageCount);

        var frame = new List<OutgoingMessage> { new("t/b", new byte[50_000], "image/jpeg", true, "b") };
        Assert.Throws<OutboxWriteException>(() => outbox.Append(frame, OutboxPriority.Critical));
        Assert.Throws<OutboxWriteException>(() => outbox.Append(frame, OutboxPriority.Critical));
        Assert.Contains("disk full", alarms.Raised[AlarmCodes.StorageFull]);
        Assert.Equal(1, alarms.Raises(AlarmCodes.StorageFull));

        outbox.LimitPages(1_000_000);
        Assert.Equal(OutboxAppend.Stored, outbox.Append(frame, OutboxPriority.Critical));
        Assert.False(alarms.Raised.ContainsKey(AlarmCodes.StorageFull));
        Assert.Equal(["a/0", "b"], outbox.Read(0, 100).Select(e => e.Message.CorrelationId == "b" ? "b" : Text(e.Message)));
    }

    [Fact]
    public void Over_the_cap_the_oldest_OK_frames_go_first_and_NG_frames_are_kept_with_an_alarm()
    {
        // Each frame below is about 10 kB; the cap holds about five of them.
        using var outbox = Open(maxBytes: 52_000);
        outbox.Append(Frame("ng1", 1, 10_000), OutboxPriority.Critical);
        outbox.Append(Frame("ok1", 1, 10_000), OutboxPriority.Routine);
        outbox.Append(Frame("ok2", 1, 10_000), OutboxPriority.Routine);
        outbox.Append(Frame("ng2", 1, 10_000), OutboxPriority.Critical);
        outbox.Append(Frame("ok3", 1, 10_000), OutboxPriority.Routine);
        Assert.Equal(0, outbox.Dropped);

        outbox.Append(Frame("ng3", 1, 10_000), OutboxPriority.Critical);
        outbox.Append(Frame("ng4", 1, 10_000), OutboxPriority.Critical);
        Assert.Equal(["ng1", "ng2", "ok3", "ng3", "ng4"], Correlations(outbox));
        Assert.Equal(2, outbox.Dropped);
        Assert.True(log.Has(LogLevel.Warning, "OK message(s) dropped"), string.Join("\n", log.Entries));
        Assert.Empty(alarms.Raised);

        // Only NG frames left: they stay beyond the cap, new OK frames are refused, and the alarm says so.
        outbox.Append(Frame("ng5", 1, 10_000), OutboxPriority.Critical);
        Assert.Equal(OutboxAppend.Refused, outbox.Append(Frame("ok4", 1, 10_000), OutboxPriority.Routine));
        Assert.Equal(OutboxAppend.Stored, outbox.Append(Frame("ng6", 1, 10_000), OutboxPriority.Critical));
        Assert.Equal(["ng1", "ng2", "ng3", "ng4", "ng5", "ng6"], Correlations(outbox));
        Assert.Equal(4, outbox.Dropped);
        Assert.True(outbox.Bytes > 52_000);
        Assert.Contains(AlarmCodes.OutboxOverCap, alarms.Raised.Keys);

        // Delivery brings it back under the cap: the alarm clears and OK frames are stored again.
        foreach (var entry in outbox.Read(0, 2))
        {
            outbox.Remove(entry.Sequence);
        }

        Assert.DoesNotContain(AlarmCodes.OutboxOverCap, alarms.Raised.Keys);
        Assert.Equal(OutboxAppend.Stored, outbox.Append(Frame("ok5", 1, 100), OutboxPriority.Routine));
    }

    [Fact]
    public void A_pending_frame_keeps_its_id_across_a_reopen_until_its_source_has_recorded_it()
    {
        var pending = new PendingFrame("cam", "part-001.png", Guid.CreateVersion7().ToString());
        using (var outbox = Open())
        {
            outbox.Append(Frame("a", 1), OutboxPriority.Routine, pending);
            Assert.Equal(pending.Id, outbox.PendingId("cam", "part-001.png"));
            Assert.Null(outbox.PendingId("other", "part-001.png"));
        }

        using var reopened = Open();
        Assert.Equal(pending.Id, reopened.PendingId("cam", "part-001.png"));
        reopened.Forget(pending);
        Assert.Null(reopened.PendingId("cam", "part-001.png"));
    }

    [Fact]
    public void A_damaged_outbox_is_moved_aside_logged_and_replaced_by_an_empty_one()
    {
        using (var outbox = Open())
        {
            outbox.Append(Frame("lost", 2), OutboxPriority.Critical);
        }

        byte[] garbage = Encoding.ASCII.GetBytes(new string('#', 8192));
        File.WriteAllBytes(DbPath, garbage);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));

        using var fresh = SqliteOutbox.Open(DbPath, 512 * Megabyte, alarms, log, clock);

        Assert.Equal(0, fresh.Depth);
        string aside = DbPath + ".damaged-20260304T050607Z";
        Assert.Equal(garbage, File.ReadAllBytes(aside));
        Assert.True(log.Has(LogLevel.Error, aside), "the error names where the damaged file went");
        fresh.Append(Frame("new", 1), OutboxPriority.Routine);
        Assert.Equal(["new/0"], fresh.Read(0, 100).Select(e => Text(e.Message)));
    }

    [Fact]
    public async Task The_dispatcher_publishes_in_order_and_removes_only_what_the_broker_acknowledged()
    {
        using var outbox = Open();
        var broker = new GatedPublisher();
        for (int i = 0; i < 5; i++)
        {
            outbox.Append(Frame($"f{i}", 2), OutboxPriority.Routine);
        }

        using var stop = new CancellationTokenSource();
        var run = new OutboxDispatcher(outbox, broker, log).RunAsync(stop.Token);
        await broker.Offered.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(10, outbox.Depth); // the broker is away: offered, not acknowledged, nothing removed

        broker.Acknowledge(4);
        await WaitUntilAsync(() => outbox.Depth == 6);
        outbox.Append(Frame("late", 1), OutboxPriority.Critical);
        broker.Acknowledge(100);
        await WaitUntilAsync(() => outbox.Depth == 0);
        Assert.Equal(["f0/0", "f0/1", "f1/0", "f1/1", "f2/0", "f2/1", "f3/0", "f3/1", "f4/0", "f4/1", "late/0"], broker.Published);

        await stop.CancelAsync();
        await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    [Fact]
    public async Task Stopping_the_dispatcher_mid_outage_leaves_every_unacknowledged_message_for_the_next_start()
    {
        using (var outbox = Open())
        {
            var broker = new GatedPublisher();
            outbox.Append(Frame("a", 2), OutboxPriority.Critical);
            outbox.Append(Frame("b", 1), OutboxPriority.Routine);
            using var stop = new CancellationTokenSource();
            var run = new OutboxDispatcher(outbox, broker, log).RunAsync(stop.Token);
            broker.Acknowledge(1);
            await WaitUntilAsync(() => outbox.Depth == 2);
            await stop.CancelAsync();
            await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        using var reopened = Open();
        Assert.Equal(["a/1", "b/0"], reopened.Read(0, 100).Select(e => Text(e.Message)));
    }

    private SqliteOutbox Open(long maxBytes = 512 * Megabyte) => SqliteOutbox.Open(DbPath, maxBytes, alarms, log);

    private static List<OutgoingMessage> Frame(string id, int messages, int payloadBytes = 0) =>
        Enumerable.Range(0, messages)
            .Select(i => new OutgoingMessage($"t/{id}", Encoding.UTF8.GetBytes($"{id}/{i}" + new string(' ', payloadBytes)), "application/json", i == 0, id))
            .ToList();

    private static string Text(OutgoingMessage message) => Encoding.UTF8.GetString(message.Payload.Span).TrimEnd();

    private static List<string?> Correlations(SqliteOutbox outbox) =>
        outbox.Read(0, 100).Select(e => e.Message.CorrelationId).Distinct().ToList();

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }

    private sealed class RecordingAlarms : IAlarmSink
    {
        private readonly ConcurrentDictionary<string, int> raises = new();

        public ConcurrentDictionary<string, string> Raised { get; } = new();

        public int Raises(string code) => raises.GetValueOrDefault(code);

        public void Raise(string code, string message)
        {
            if (Raised.TryAdd(code, message))
            {
                raises.AddOrUpdate(code, 1, (_, n) => n + 1);
            }
        }

        public void Clear(string code) => Raised.TryRemove(code, out _);
    }

    /// <summary>A broker that acknowledges as many publishes as it is told to; the others wait, as MqttPublisher's do during an outage.</summary>
    private sealed class GatedPublisher : IMessagePublisher
    {
        private readonly List<string> published = [];
        private readonly SemaphoreSlim acknowledgements = new(0);
        private readonly TaskCompletionSource offered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsConnected => true;

        /// <summary>Completes when the first message waits for its acknowledgement.</summary>
        public Task Offered => offered.Task;

        public List<string> Published
        {
            get
            {
                lock (published)
                {
                    return [.. published];
                }
            }
        }

        public void Acknowledge(int count) => acknowledgements.Release(count);

        public async Task PublishAsync(OutgoingMessage message, CancellationToken cancellation)
        {
            offered.TrySetResult();
            await acknowledgements.WaitAsync(cancellation);
            lock (published)
            {
                published.Add(Text(message));
            }
        }
    }
}
