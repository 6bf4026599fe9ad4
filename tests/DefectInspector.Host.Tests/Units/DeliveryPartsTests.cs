using DefectInspector.Host.Hosting;
using DefectInspector.Host.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace DefectInspector.Host.Tests.Units;

public sealed class DeliveryPartsTests : IDisposable
{
    private readonly TempFolder temp = new("di-delivery-");

    public void Dispose() => temp.Dispose();

    [Fact]
    public void An_alarm_changes_the_status_once_when_raised_and_once_when_cleared()
    {
        var board = new AlarmBoard(NullLogger<AlarmBoard>.Instance);
        int changes = 0;
        board.Changed += () => changes++;
        Assert.Null(board.Current);

        board.Raise(AlarmCodes.StorageFull, "disk full");
        board.Raise(AlarmCodes.StorageFull, "disk full");
        var raised = Assert.Single(board.Current!);
        Assert.Equal((AlarmCodes.StorageFull, "disk full"), (raised.Code, raised.Message));
        board.Clear(AlarmCodes.StorageFull);
        board.Clear(AlarmCodes.StorageFull);

        Assert.Equal(2, changes);
        Assert.Null(board.Current);
    }

    [Fact]
    public void The_snapshot_archive_keeps_days_within_retention_and_then_the_newest_files_within_its_cap()
    {
        var archive = new SnapshotArchive(Path.Combine(temp.Path, "snapshots"), TimeSpan.FromDays(7), maxBytes: 2500, TimeProvider.System, NullLogger.Instance);
        var now = DateTimeOffset.UtcNow;
        archive.Save("top", "old", now.AddDays(-10), new byte[100]);
        for (int i = 0; i < 4; i++)
        {
            archive.Save("top", $"new{i}", now, new byte[1000]);
            File.SetLastWriteTimeUtc(Path.Combine(archive.Folder, now.ToString("yyyy-MM-dd"), "top", $"new{i}.jpg"), now.UtcDateTime.AddMinutes(i));
        }

        Assert.Equal(3, archive.Prune());

        var left = Directory.GetFiles(archive.Folder, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order();
        Assert.Equal(["new2.jpg", "new3.jpg"], left);
    }
}
