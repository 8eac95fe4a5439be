namespace MLNet.WeightSelection.MLNet;

/// <summary>ML.NET's annotation kind names and values (its <c>AnnotationUtils</c> constants are internal).</summary>
internal static class AnnotationKinds
{
    public const string KeyValues = "KeyValues";
    public const string SlotNames = "SlotNames";
    public const string ScoreColumnKind = "ScoreColumnKind";
    public const string ScoreValueKind = "ScoreValueKind";
    public const string ScoreColumnSetId = "ScoreColumnSetId";
    public const string TrainingLabelValues = "TrainingLabelValues";

    /// <summary>The ScoreColumnKind of multiclass classifiers.</summary>
    public const string MulticlassClassification = "MulticlassClassification";

    /// <summary>The ScoreValueKind of a score column.</summary>
    public const string Score = "Score";
}
