// Files the core returns in base64 (reports, letters, evidence): as a Blob, or saved through
// the browser's download.

export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function blobOf(base64: string, type: string): Blob {
  return new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
}

export function saveBase64(base64: string, name: string, type: string) {
  saveBlob(blobOf(base64, type), name);
}

function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** Saves text (e.g. a data subject's copy as JSON) through the browser's download. */
export function saveText(text: string, name: string, type: string) {
  saveBlob(new Blob([text], { type }), name);
}
