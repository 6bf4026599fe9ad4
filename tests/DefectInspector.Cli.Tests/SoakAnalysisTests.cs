using DefectInspector.Cli.Commands;

namespace DefectInspector.Cli.Tests;

public sealed class SoakAnalysisTests
{
    [Fact]
    public void The_slope_and_growth_leave_out_the_warm_up()
    {
        // RSS jumps during the first minute (caches filling), then grows 2 MB per minute; the managed heap is flat.
        var samples = Enumerable.Range(0, 25).Select(i =>
        {
            var at = TimeSpan.FromSeconds(5 * i);
            double rss = at < TimeSpan.FromMinutes(1) ? 100 + 10 * i : 500 + 2 * at.TotalMinutes;
            return new SoakSample(at, rss, 40, 60, 100, 20, i * 10, 2);
        }).ToList();

        var analysis = SoakAnalysis.Analyse(samples, SoakAnalysis.WarmupFor(TimeSpan.FromMinutes(2)));

        Assert.Equal(13, analysis.Measured);
        Assert.Equal(2, analysis.RssSlopeMbPerMinute, precision: 6);
        Assert.Equal(0, analysis.ManagedSlopeMbPerMinute, precision: 6);
        Assert.Equal((504 - 502) / 502.0 * 100, analysis.RssGrowthPercent, precision: 6);
        Assert.Equal(0, analysis.ManagedGrowthPercent, precision: 6);
        Assert.Equal(TimeSpan.FromMinutes(2), analysis.End);
    }

    [Fact]
    public void Growth_follows_the_trend_not_two_noisy_samples()
    {
        // RSS swinging +-10 MB around 600, starting on a low swing (570) and ending on a high one (620): 8.8% apart,
        // but the fitted line rises 3.4%.
        var samples = Enumerable.Range(12, 13).Select(i =>
        {
            double rss = 600 + (i == 12 ? -30 : i == 24 ? 20 : i % 2 == 0 ? 10 : -10);
            return new SoakSample(TimeSpan.FromSeconds(5 * i), rss, 40, 60, 100, 20, i, 2);
        }).ToList();
        var analysis = SoakAnalysis.Analyse(samples, TimeSpan.FromMinutes(1));
        Assert.Equal(3.36, analysis.RssGrowthPercent, precision: 2);
        Assert.Equal(19.78, analysis.RssSlopeMbPerMinute, precision: 2);
    }

    [Fact]
    public void Long_soaks_measure_from_minute_five()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), SoakAnalysis.WarmupFor(TimeSpan.FromMinutes(2)));
        Assert.Equal(TimeSpan.FromMinutes(5), SoakAnalysis.WarmupFor(TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public void Too_few_samples_after_the_warm_up_give_no_slope()
    {
        var analysis = SoakAnalysis.Analyse([new SoakSample(TimeSpan.FromSeconds(70), 500, 40, 60, 100, 20, 10, 2)], TimeSpan.FromMinutes(1));
        Assert.Equal(1, analysis.Measured);
        Assert.Equal(0, analysis.RssSlopeMbPerMinute);
    }
}
