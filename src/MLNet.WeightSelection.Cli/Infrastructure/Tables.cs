using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Table helpers: cells are plain text (keys and shapes contain '[' which Spectre would read as markup).</summary>
internal static class Tables
{
    public static Table Create(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in columns) table.AddColumn(new TableColumn(Markup.Escape(c)));
        return table;
    }

    public static Table RightAligned(this Table table, params int[] columns)
    {
        foreach (int c in columns) table.Columns[c].RightAligned();
        return table;
    }

    public static void AddTextRow(this Table table, params string[] cells) =>
        table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c)).ToArray());
}
