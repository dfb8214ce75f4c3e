declare const input: { month: string }
