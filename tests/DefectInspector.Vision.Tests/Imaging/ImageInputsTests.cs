using DefectInspector.Vision.Imaging;

namespace DefectInspector.Vision.Tests.Imaging;

public sealed class ImageInputsTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private string Touch(string relative)
    {
        var path = folder.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1]);
        return path;
    }

    [Fact]
    public void Empty_folder_is_an_error_naming_it()
    {
        var empty = folder.File("empty");
        Directory.CreateDirectory(empty);

        var (files, errors) = ImageInputs.Expand([empty]);

        Assert.Empty(files);
        var error = Assert.Single(errors);
        Assert.Contains(empty, error);
    }

    [Fact]
    public void Folder_without_images_is_an_error()
    {
        Touch("docs/readme.txt");

        var (files, errors) = ImageInputs.Expand([folder.File("docs")]);

        Assert.Empty(files);
        Assert.Contains(folder.File("docs"), Assert.Single(errors));
    }

    [Fact]
    public void Mixed_folder_gives_only_its_own_images_sorted_by_name()
    {
        Touch("mixed/c.tiff");
        Touch("mixed/a.jpg");
        Touch("mixed/notes.txt");
        Touch("mixed/b.PNG");
        Touch("mixed/d.bmp");
        Touch("mixed/e.gif");
        Touch("mixed/sub/z.png");

        var (files, errors) = ImageInputs.Expand([folder.File("mixed")]);

        Assert.Empty(errors);
        Assert.Equal(["a.jpg", "b.PNG", "c.tiff", "d.bmp"], files.Select(Path.GetFileName));
    }

    [Fact]
    public void Bad_inputs_are_reported_one_by_one_and_the_rest_still_proceed()
    {
        var single = Touch("one.jpeg");
        Touch("folder/x.png");
        var missing = folder.File("missing");
        var text = Touch("notes.txt");
        var empty = folder.File("empty");
        Directory.CreateDirectory(empty);

        var (files, errors) = ImageInputs.Expand([single, missing, folder.File("folder"), text, empty]);

        Assert.Equal([single, folder.File("folder/x.png")], files);
        Assert.Equal(3, errors.Count);
        Assert.Contains(missing, errors[0]);
        Assert.Contains(text, errors[1]);
        Assert.Contains(".png, .jpg", errors[1]);
        Assert.Contains(empty, errors[2]);
    }
}
