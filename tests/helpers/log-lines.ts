/** Every character a log line must never contain raw: C0/C1 controls, DEL, line and paragraph separators. */
export const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
