// A letter to start from a resident's online request: the requests page sets it and opens the
// letters page, which fills its form from it once (then clears it).
export type LetterPrefill = { letter_type: string; nik: string; purpose: string };

export const prefill: { letter: LetterPrefill | null } = $state({ letter: null });
