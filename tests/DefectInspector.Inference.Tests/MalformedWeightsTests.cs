using System.Buffers.Binary;
using System.Text;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

/// <summary>Hostile and broken safetensors files and bundles: each refused before anything is allocated, naming the file and the field.</summary>
public sealed class MalformedWeightsTests : IDisposable
{
    private const string Valid = "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";
    private readonly TempFolder temp = new("di-malformed-");

    public void Dispose() => temp.Dispose();

    public static TheoryData<string, string, string> Headers() => new()
    {
        { "not-json", "{{{", "not a valid safetensors file" },
        { "array", "[]", "header: expected a JSON object" },
        { "entry-not-object", "{\"w\":5}", "tensor 'w': expected an object" },
        { "dtype-unknown", "{\"w\":{\"dtype\":\"F8\",\"shape\":[4],\"data_offsets\":[0,4]}}", "tensor 'w': dtype 'F8': expected one of F32" },
        { "dtype-missing", "{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", "tensor 'w': dtype: expected a string" },
        { "shape-negative", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}", "tensor 'w': shape: -1 is not a non-negative integer" },
        { "shape-fraction", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,16]}}", "tensor 'w': shape: 1.5 is not a non-negative integer" },
        { "shape-text", "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}", "tensor 'w': shape: \"4\" is not a non-negative integer" },
        { "shape-huge", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4000000000,4000000000],\"data_offsets\":[0,16]}}", "tensor 'w': shape [4000000000, 4000000000]: expected a tensor whose size in bytes fits in 64 bits" },
        { "shape-beyond-file", "{\"w\":{\"dtype\":\"F32\",\"shape\":[100000,100000],\"data_offsets\":[0,40000000000]}}", "expected a range inside the 16-byte data section" },
        { "offsets-negative", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[-8,8]}}", "tensor 'w': data_offsets: -8 is not a non-negative integer" },
        { "offsets-three", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8,16]}}", "tensor 'w': data_offsets: expected 2 integers, found 3" },
        { "offsets-reversed", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,0]}}", "tensor 'w': data_offsets [16, 0]: expected a range of 16 bytes" },
        { "offsets-wrong-length", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", "tensor 'w': data_offsets [0, 12]: expected a range of 16 bytes for shape [2, 2] of F32" },
        { "offsets-beyond-data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}", "tensor 'w': data_offsets [8, 24]: expected a range inside the 16-byte data section" },
        { "overlap", "{" + Valid + ",\"v\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "overlap tensor" },
        { "duplicate", "{" + Valid + "," + Valid + "}", "'w': expected each name once" },
        { "metadata-not-text", "{\"__metadata__\":{\"format\":5}," + Valid + "}", "__metadata__.format: expected a string" },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void A_malformed_header_is_refused_naming_the_file_and_the_field(string name, string header, string expected)
    {
        string path = Write(name, Encoding.UTF8.GetBytes(header), new byte[16]);

        var error = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(path));

        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(0x8000_0000_0000_0000UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL)]
    [InlineData(1000UL)]
    public void A_header_length_that_does_not_fit_the_file_is_refused(ulong length)
    {
        string path = Path.Combine(temp.Path, $"length-{length}.safetensors");
        var bytes = new byte[8 + 64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(path));

        Assert.Contains(path, error.Message);
        Assert.Contains($"header length {length}: expected 2 to 64 bytes", error.Message);
    }

    [Fact]
    public void Many_tensors_over_the_same_bytes_are_refused_instead_of_loaded_many_times()
    {
        // 8 MB of data claimed by 170 tensors: read as given, 1.4 GB.
        const int Floats = 2 * 1024 * 1024;
        var entries = Enumerable.Range(0, 170).Select(i => $"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[{Floats}],\"data_offsets\":[0,{Floats * 4}]}}");
        string path = Write("overlapping", Encoding.UTF8.GetBytes("{" + string.Join(",", entries) + "}"), new byte[Floats * 4]);

        var error = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(path));

        Assert.Contains("data_offsets [0, 8388608] overlap tensor", error.Message);
    }

    [Theory]
    [InlineData("../../x")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("with space")]
    [InlineData("wild+card")]
    public void A_bundle_whose_class_name_is_not_file_and_topic_safe_is_refused_naming_the_file_and_field(string badClass)
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Random(Architecture.ResNet18, 2, seed: 5);
        string path = Path.Combine(temp.Path, "classes" + ModelBundle.Extension);
        string json = $$$"""{"schema":1,"name":"x","architecture":"resnet18","classes":["good",{{{System.Text.Json.JsonSerializer.Serialize(badClass)}}}],"goodClass":"good","preprocessing":{"width":64,"height":64,"channelOrder":"Rgb","mean":[0,0,0],"std":[1,1,1]}}""";
        SafetensorsFile.Write(path, model.state_dict(), new Dictionary<string, string> { [ModelBundle.FormatKey] = ModelBundle.FormatValue, [ModelBundle.MetadataKey] = json });

        var error = Assert.Throws<InvalidDataException>(() => ModelBundle.Load(path));

        Assert.Contains(path, error.Message);
        Assert.Contains($"classes[1] '{badClass}': expected letters, digits", error.Message);
    }

    private string Write(string name, byte[] header, byte[] data)
    {
        string path = Path.Combine(temp.Path, name + ".safetensors");
        using var file = File.Create(path);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        file.Write(header);
        file.Write(data);
        return path;
    }
}
