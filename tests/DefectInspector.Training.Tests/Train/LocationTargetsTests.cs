using DefectInspector.Training.Train;
using OpenCvSharp;

namespace DefectInspector.Training.Tests.Train;

public class LocationTargetsTests
{
    private const long I = LocationTargets.Ignore;

    [Fact]
    public void Good_parts_are_good_everywhere_and_a_mask_marks_its_cells_a_ring_of_silence_and_good_beyond()
    {
        // A 40x40 frame on a 4x4 grid: 10x10 pixel cells. The defect covers cell (row 1, column 2) fully and one pixel
        // of cell (3, 3).
        using var mask = new Mat(40, 40, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Rectangle(mask, new Rect(20, 10, 10, 10), Scalar.All(255), -1);
        mask.Set(39, 39, (byte)255);

        var targets = LocationTargets.From([null, mask, null], [0, 2, 1], height: 4, width: 4);

        Assert.Equal(new long[16], targets[..16]);
        long[] expected =
        [
            0, I, I, I,
            0, I, 2, I,
            0, I, I, I,
            0, 0, I, 2,
        ];
        Assert.Equal(expected, targets[16..32]);
        // A defective part without a mask says nothing about where.
        Assert.All(targets[32..], t => Assert.Equal(I, t));
    }

    [Fact]
    public void A_frame_that_is_not_square_maps_onto_the_grid_edge_to_edge()
    {
        // 60 wide, 20 high onto a 2x3 grid: 20x10 pixel cells; a defect in the bottom-right corner.
        using var mask = new Mat(20, 60, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Rectangle(mask, new Rect(50, 15, 5, 5), Scalar.All(255), -1);
        var targets = LocationTargets.From([mask], [1], height: 2, width: 3);
        Assert.Equal(new long[] { 0, I, I, 0, I, 1 }, targets);
    }

    [Fact]
    public void Masks_and_labels_of_different_counts_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => LocationTargets.From([null], [0, 1], 2, 2));
        Assert.Contains("1 masks for 2 labels", e.Message);
    }
}
