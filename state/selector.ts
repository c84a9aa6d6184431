// CONTRACT (to be implemented here):
//   parseLabelSelector(text: string): LabelSelector — kubectl syntax: `a=b`, `a==b`, `a!=b`,
//     `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated (AND). Throws StateError
//     SY_STATE_INVALID with field `selector` and a reason on bad syntax or bad keys/values.
//   matchesLabelSelector(selector: LabelSelector, labels: Labels): boolean
//   selectorFromSpec(spec: SelectorSpec): LabelSelector — matchLabels + matchExpressions.
//   EVERYTHING: the empty selector matches everything.
export {};
