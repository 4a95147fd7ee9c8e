/** The branch or tag a full ref names (`refs/heads/main` → `{ branch: 'main' }`); nothing for other refs. */
export function refFields(ref: string | undefined): { branch?: string; tag?: string } {
  if (ref?.startsWith('refs/heads/')) return { branch: ref.slice('refs/heads/'.length) };
  if (ref?.startsWith('refs/tags/')) return { tag: ref.slice('refs/tags/'.length) };
  return {};
}
