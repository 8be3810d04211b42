// REST calls from the browser: same-origin cookie session plus the CSRF header.
// Errors under /api/v1 are {"error": {code, message}}; they become ApiError.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

/** fetch /api/v1 + path; resolves to the parsed JSON (or null for 204). */
export async function api(method, path, body, { signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", signal };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(`/api/v1${path}`, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "offline", err.message || "network error");
  }
  return parse(resp);
}

export async function parse(resp) {
  if (resp.status === 204) return null;
  const type = resp.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await resp.json().catch(() => null) : null;
  if (!resp.ok) {
    const e = data?.error || {};
    throw new ApiError(resp.status, e.code || `http_${resp.status}`, e.message || resp.statusText, e.details);
  }
  return data;
}

/**
 * Upload with progress (fetch has no upload progress): XMLHttpRequest.
 * onProgress(fraction) is called as bytes leave.
 */
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (ev) => ev.lengthComputable && onProgress?.(ev.loaded / ev.total);
    xhr.onerror = () => reject(new ApiError(0, "offline", "network error"));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON: keep null */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const e = data?.error || {};
        reject(new ApiError(xhr.status, e.code || `http_${xhr.status}`, e.message || xhr.statusText, e.details));
      }
    };
    xhr.send(formData);
  });
}
