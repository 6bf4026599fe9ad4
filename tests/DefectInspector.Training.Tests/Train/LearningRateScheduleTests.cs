using DefectInspector.Training.Train;

namespace DefectInspector.Training.Tests.Train;

public class LearningRateScheduleTests
{
    [Fact]
    public void Warms_up_linearly_then_decays_along_a_cosine_to_zero()
    {
        var schedule = new LearningRateSchedule(BaseRate: 1e-3, WarmupSteps: 10, TotalSteps: 110);
        Assert.Equal(1e-4, schedule.At(0), 12);
        Assert.Equal(5e-4, schedule.At(4), 12);
        Assert.Equal(1e-3, schedule.At(10), 12);
        Assert.Equal(5e-4, schedule.At(60), 12);
        Assert.Equal(0, schedule.At(110), 12);
        for (int step = 11; step < 110; step++)
            Assert.True(schedule.At(step) < schedule.At(step - 1));
    }
}
