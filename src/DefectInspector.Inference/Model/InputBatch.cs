using DefectInspector.Core.Imaging;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Model;

/// <summary>Preprocessed images become one [N, 3, H, W] tensor: the boundary between plain data and the network.</summary>
public static class InputBatch
{
    public static Tensor ToTensor(IReadOnlyList<InputImage> images, Preprocessing spec, Device device)
    {
        if (images.Count == 0) throw new ArgumentException("a batch needs at least one image", nameof(images));
        int plane = 3 * spec.Height * spec.Width;
        var data = new float[images.Count * plane];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Width != spec.Width || images[i].Height != spec.Height)
                throw new ArgumentException($"image {i} is {images[i].Width}x{images[i].Height}; the model expects {spec.Width}x{spec.Height}");
            images[i].Chw.CopyTo(data, i * plane);
        }
        return tensor(data, [images.Count, 3, spec.Height, spec.Width]).to(device);
    }
}
