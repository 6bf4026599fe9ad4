using DefectInspector.Vision.Imaging;
using OpenCvSharp;

namespace DefectInspector.Vision.Tests.Imaging;

public sealed class ImageReaderTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData("frame.png", 0.0)]
    [InlineData("frame.bmp", 0.0)]
    [InlineData("frame.tiff", 0.0)]
    [InlineData("frame.jpg", 3.0)]
    [InlineData("FRAME.JPEG", 3.0)]
    public void Reads_supported_formats_as_bgr_8bit(string name, double tolerance)
    {
        using var original = TestImages.Quadrants(64, 48);
        var path = TestImages.Write(original, folder.File(name));

        using var read = ImageReader.Read(path);

        Assert.Equal(new Size(64, 48), read.Size());
        Assert.Equal(MatType.CV_8UC3, read.Type());
        Assert.InRange(TestImages.MeanAbsDiff(original, read), 0.0, tolerance);
        // Colour order survives: the top-left quadrant is blue-dominant in BGR.
        var px = read.At<Vec3b>(5, 5);
        Assert.True(px.Item0 > 150 && px.Item2 < 90, $"top-left pixel {px.Item0},{px.Item1},{px.Item2} is not blue");
    }

    [Fact]
    public void Grayscale_jpeg_comes_back_as_three_equal_channels()
    {
        using var gray = new Mat(32, 40, MatType.CV_8UC1, new Scalar(30));
        gray[new Rect(20, 0, 20, 32)].SetTo(new Scalar(220));
        var path = TestImages.Write(gray, folder.File("gray.jpg"));
        using (var check = Cv2.ImDecode(File.ReadAllBytes(path), ImreadModes.Unchanged))
            Assert.Equal(1, check.Channels()); // the file really is a one-channel JPEG

        using var read = ImageReader.Read(path);

        Assert.Equal(MatType.CV_8UC3, read.Type());
        var channels = read.Split();
        try
        {
            Assert.Equal(0, Cv2.Norm(channels[0], channels[1], NormTypes.INF));
            Assert.Equal(0, Cv2.Norm(channels[0], channels[2], NormTypes.INF));
            Assert.InRange(channels[0].At<byte>(16, 5), (byte)25, (byte)35);
            Assert.InRange(channels[0].At<byte>(16, 35), (byte)215, (byte)225);
        }
        finally
        {
            foreach (var c in channels)
                c.Dispose();
        }
    }

    [Fact]
    public void An_image_above_the_pixel_limit_is_refused_from_its_header_and_one_below_it_reads()
    {
        var huge = HugePng.Write(folder.File("huge.png"), 20000, 20000);
        var error = Assert.Throws<ImageReadException>(() => ImageReader.Read(huge));
        Assert.Contains("huge.png", error.Message);
        Assert.Contains("20000x20000 (400 megapixels)", error.Message);
        Assert.Contains("at most 100 megapixels", error.Message);

        // The same writer makes a file OpenCV reads: the refusal is about size, not a broken file.
        using var fine = ImageReader.Read(HugePng.Write(folder.File("fine.png"), 2000, 1000));
        Assert.Equal((2000, 1000), (fine.Width, fine.Height));
    }

    [Fact]
    public void A_tiff_above_the_pixel_limit_is_refused_from_its_header_and_one_below_it_reads()
    {
        var huge = HugeTiff.Write(folder.File("huge.tif"), 12000, 12000);
        var error = Assert.Throws<ImageReadException>(() => ImageReader.Read(huge));
        Assert.Contains("huge.tif", error.Message);
        Assert.Contains("12000x12000 (144 megapixels)", error.Message);

        using var fine = ImageReader.Read(HugeTiff.Write(folder.File("fine.tiff"), 300, 200));
        Assert.Equal((300, 200), (fine.Width, fine.Height));
    }

    [Fact]
    public void Sizes_whose_product_overflows_are_refused()
    {
        var bytes = TestImages.Encode(TestImages.Quadrants(), ".png");
        bytes.AsSpan(16, 8).Fill(0xFF); // IHDR width and height 0xFFFFFFFF: the product overflows a long
        var path = folder.File("overflow.png");
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains("4294967295x4294967295", error.Message);
    }

    [Fact]
    public void A_file_above_the_size_limit_is_refused_before_it_is_read()
    {
        var path = folder.File("vast.png");
        using (var file = File.Create(path))
            file.SetLength(ImageReader.MaxFileBytes + 1); // sparse: no disk space taken

        var error = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains("vast.png", error.Message);
        Assert.Contains("at most 671 MB", error.Message);
    }

    [Theory]
    [InlineData("P5\n20000 20000\n255\n", "frame.png")]
    [InlineData("GIF89a", "frame.jpg")]
    public void Content_of_a_format_not_accepted_is_refused_whatever_its_extension(string start, string name)
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes(start), .. new byte[64]]);

        var error = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(name, error.Message);
        Assert.Contains("none of the accepted formats", error.Message);
    }

    [Theory]
    [InlineData("II*\0")]
    [InlineData("MM\0*")]
    public void A_tiff_whose_directory_gives_no_size_is_refused_before_decoding(string signature)
    {
        var path = folder.File("no-size.tif");
        File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes(signature), 0, 0, 0, 8, 0, 0, 0, 0]);

        var error = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains("TIFF header does not give the image size", error.Message);
    }

    [Fact]
    public void The_header_size_of_jpeg_and_bmp_is_found_too()
    {
        using var original = TestImages.Quadrants();
        foreach (var extension in new[] { ".jpg", ".bmp", ".png", ".tif" })
            Assert.Equal(((long)original.Width, (long)original.Height), ImageHeader.Size(TestImages.Encode(original, extension)));
    }

    [Fact]
    public void Jpeg_with_zero_padding_after_eoi_is_accepted()
    {
        using var original = TestImages.Quadrants();
        var path = folder.File("padded.jpg");
        File.WriteAllBytes(path, [.. TestImages.Encode(original, ".jpg"), 0, 0, 0, 0]);

        using var read = ImageReader.Read(path);

        Assert.Equal(original.Size(), read.Size());
    }

    [Fact]
    public void Missing_file_names_the_file()
    {
        var path = folder.File("nope.png");

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.Equal(path, e.Path);
    }

    [Theory]
    [InlineData("frame.gif")]
    [InlineData("notes.txt")]
    [InlineData("no-extension")]
    public void Unsupported_extension_lists_the_expected_ones(string name)
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, TestImages.Encode(TestImages.Quadrants(), ".png"));

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("expected one of .png, .jpg, .jpeg, .bmp, .tif, .tiff", e.Message);
    }

    [Theory]
    [InlineData("empty.png")]
    [InlineData("empty.jpg")]
    public void Zero_byte_file_is_rejected(string name)
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, []);

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("empty", e.Message);
    }

    [Theory]
    [InlineData("garbage.png")]
    [InlineData("garbage.jpg")]
    [InlineData("garbage.tif")]
    public void Garbage_bytes_are_rejected(string name)
    {
        var path = folder.File(name);
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Truncated_jpeg_is_rejected_although_libjpeg_would_fill_it()
    {
        using var original = TestImages.Quadrants(320, 240);
        var full = TestImages.Encode(original, ".jpg");
        var path = folder.File("cut.jpg");
        File.WriteAllBytes(path, full[..(full.Length / 2)]);

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("FF D9", e.Message);
    }

    [Fact]
    public void Truncated_png_is_rejected()
    {
        using var original = TestImages.Quadrants(320, 240);
        var full = TestImages.Encode(original, ".png");
        var path = folder.File("cut.png");
        File.WriteAllBytes(path, full[..(full.Length / 2)]);

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("IEND", e.Message);
    }

    [Fact]
    public void Png_cut_just_before_its_iend_chunk_is_rejected()
    {
        var full = TestImages.Encode(TestImages.Quadrants(), ".png");
        var path = folder.File("no-iend.png");
        File.WriteAllBytes(path, full[..^12]); // IEND is the last 12 bytes: length, type, CRC

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains("IEND", e.Message);
    }

    [Fact]
    public void Truncated_bmp_is_rejected()
    {
        var full = TestImages.Encode(TestImages.Quadrants(), ".bmp");
        var path = folder.File("cut.bmp");
        File.WriteAllBytes(path, full[..(full.Length - 100)]);

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_folder_is_not_an_image()
    {
        var path = folder.File("looks-like.png");
        Directory.CreateDirectory(path);

        var e = Assert.Throws<ImageReadException>(() => ImageReader.Read(path));

        Assert.Contains(path, e.Message);
    }
}
