namespace DefectInspector.Core.Imaging;

/// <summary>Channel order the network expects at its input.</summary>
public enum ChannelOrder
{
    Rgb,
    Bgr,
}

/// <summary>
/// How a frame becomes network input: the whole frame is resized (bilinear) to <see cref="Width"/> x
/// <see cref="Height"/>, scaled to [0,1], then each channel becomes (p - Mean[c]) / Std[c].
/// Mean and Std are given in the network's channel order.
/// </summary>
public sealed record Preprocessing(int Width, int Height, ChannelOrder ChannelOrder, float[] Mean, float[] Std)
{
    /// <summary>The torchvision convention most PyTorch-trained models expect.</summary>
    public static Preprocessing ImageNet(int width = 224, int height = 224) =>
        new(width, height, ChannelOrder.Rgb, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// Throws with the field name when the spec cannot describe a valid transform. A model needs at least 32x32
    /// (five stride-2 stages); the transform alone works down to 1x1.
    /// </summary>
    public void Validate(int minimumSize = 32)
    {
        if (Width < minimumSize || Height < minimumSize)
            throw new ArgumentException($"preprocessing input size {Width}x{Height}: expected at least {minimumSize}x{minimumSize}");
        if (Mean is not { Length: 3 })
            throw new ArgumentException("preprocessing mean: expected 3 values, one per channel");
        if (Std is not { Length: 3 } || Std.Any(s => !(s > 0)))
            throw new ArgumentException("preprocessing std: expected 3 positive values, one per channel");
    }
}

/// <summary>
/// One image ready for the network: CHW float32 in the model's channel order, plus the size of the
/// frame it came from so that maps can be projected back onto it.
/// </summary>
public sealed record InputImage(float[] Chw, int Width, int Height, int SourceWidth, int SourceHeight)
{
    public int Channels => 3;
}
