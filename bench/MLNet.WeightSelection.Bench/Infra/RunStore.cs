using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNet.WeightSelection.Bench.Infra;

/// <summary>
/// One JSON object per finished run, appended to bench/results/NAME.runs.jsonl as soon as the run ends. Long
/// experiments can stop and restart: a run whose key is already stored is skipped, and summaries read every stored run.
/// </summary>
sealed class RunStore
{
    readonly string _path;

    public RunStore(string name) => _path = Repo.Results(name + ".runs.jsonl");

    public string Path => _path;

    public List<JsonObject> All() => File.Exists(_path)
        ? File.ReadLines(_path).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
        : new List<JsonObject>();

    public bool Has(string key) => All().Any(r => (string?)r["key"] == key);

    public void Append(string key, object run)
    {
        var node = JsonSerializer.SerializeToNode(run, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })!.AsObject();
        node["key"] = key;
        node["finished_utc"] = DateTime.UtcNow.ToString("u");
        node["load_average_at_end"] = JsonSerializer.SerializeToNode(MachineInfo.LoadAverageNow());
        File.AppendAllText(_path, node.ToJsonString() + "\n");
    }
}
