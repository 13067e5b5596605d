/**
 * File name extensions and content types that name something the server never passes on:
 * programs, scripts, installers and active documents. A name or declared type from this list
 * is refused whatever the bytes are, since a user's system may act on the name alone.
 */

const BLOCKED_EXTENSIONS = new Set([
  // Programs and libraries.
  'exe',
  'dll',
  'com',
  'scr',
  'pif',
  'cpl',
  'sys',
  'drv',
  'ocx',
  'elf',
  'so',
  'dylib',
  'app',
  'jar',
  'class',
  'apk',
  'aab',
  'dex',
  'ipa',
  'xap',
  'appx',
  'appxbundle',
  'msix',
  'msixbundle',
  'wasm',
  'gadget',
  'application',
  'xbap',
  'jnlp',
  'lnk',
  'scf',
  'url',
  'reg',
  'inf',
  // Installers and disk images that install or auto-run.
  'msi',
  'msp',
  'msm',
  'mst',
  'msc',
  'deb',
  'rpm',
  'pkg',
  'mpkg',
  'dmg',
  'iso',
  'img',
  'vhd',
  'vhdx',
  // Scripts.
  'sh',
  'bash',
  'zsh',
  'csh',
  'ksh',
  'fish',
  'command',
  'run',
  'bat',
  'cmd',
  'ps1',
  'psm1',
  'psd1',
  'ps1xml',
  'psc1',
  'vb',
  'vbs',
  'vbe',
  'js',
  'jse',
  'mjs',
  'cjs',
  'ws',
  'wsf',
  'wsh',
  'wsc',
  'sct',
  'hta',
  'applescript',
  'scpt',
  // Active documents a browser or help viewer would run.
  'html',
  'htm',
  'xhtml',
  'xht',
  'shtml',
  'mht',
  'mhtml',
  'svg',
  'svgz',
  'chm',
  'xsl',
  'xslt',
]);

/** Blocked unless the caller's policy lets macro-carrying documents through. */
const MACRO_ONLY_EXTENSIONS = new Set(['xlam', 'ppam', 'xla', 'ppa']);

const BLOCKED_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'application/x-msdownload',
  'application/x-msdos-program',
  'application/x-dosexec',
  'application/vnd.microsoft.portable-executable',
  'application/x-executable',
  'application/x-elf',
  'application/x-sharedlib',
  'application/x-mach-binary',
  'application/x-sh',
  'application/x-csh',
  'text/x-shellscript',
  'text/x-sh',
  'application/x-bat',
  'application/x-msi',
  'application/x-ms-installer',
  'application/x-ole-storage+msi',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/javascript',
  'text/ecmascript',
  'text/vbscript',
  'application/x-vbscript',
  'application/hta',
  'application/x-powershell',
  'application/java-archive',
  'application/x-java-archive',
  'application/vnd.android.package-archive',
  'application/x-apple-diskimage',
  'application/x-ms-shortcut',
  'application/wasm',
]);

/** The lower-case extension of a file name without its dot, or undefined if it has none. */
export function extensionOf(fileName: string | undefined): string | undefined {
  if (fileName === undefined) return undefined;
  const base = fileName.split(/[\\/]/).pop() ?? '';
  // Trailing dots and spaces are dropped by Windows, so `run.exe.` is `run.exe` there.
  const trimmed = base.replace(/[.\s]+$/, '');
  const dot = trimmed.lastIndexOf('.');
  if (dot <= 0 && !trimmed.startsWith('.')) return undefined;
  // `run.exe::$DATA` names the same file as `run.exe` on Windows.
  const extension = /^[a-z0-9_-]*/.exec(trimmed.slice(dot + 1).toLowerCase())?.[0];
  return extension || undefined;
}

/** The bare lower-case media type of a Content-Type value, without parameters. */
export function bareType(contentType: string | undefined): string | undefined {
  const bare = contentType?.split(';')[0]?.trim().toLowerCase();
  return bare === '' ? undefined : bare;
}

/** Whether a file name's extension names a program, script, installer or active document. */
export function isBlockedExtension(extension: string | undefined, allowMacros: boolean): boolean {
  if (extension === undefined) return false;
  if (BLOCKED_EXTENSIONS.has(extension)) return true;
  return !allowMacros && MACRO_ONLY_EXTENSIONS.has(extension);
}

/** Whether a declared content type names a program, script, installer or active document. */
export function isBlockedDeclaredType(type: string | undefined): boolean {
  return type !== undefined && BLOCKED_TYPES.has(type);
}

/**
 * Whether a file name is unsafe to extract from an archive: absolute, climbing out of the
 * extraction folder, or carrying characters extractors treat specially.
 */
export function isUnsafeEntryName(name: string): boolean {
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) return true;
  if (name.split(/[\\/]/).some((segment) => segment === '..')) return true;
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f]/.test(name);
}
