using System.Globalization;

namespace DefectInspector.Host.Options;

/// <summary>A camera's region of interest, "x,y,width,height" in source pixels.</summary>
public readonly record struct RegionOfInterest(int X, int Y, int Width, int Height)
{
    public static bool TryParse(string text, out RegionOfInterest roi)
    {
        roi = default;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 4) return false;
        var values = new int[4];
        for (int i = 0; i < 4; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i])) return false;
        if (values[2] <= 0 || values[3] <= 0) return false;
        roi = new RegionOfInterest(values[0], values[1], values[2], values[3]);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{X},{Y},{Width},{Height}");
}
