// Module hooks that make importing one package (DENY_IMPORT) fail, to prove a code path never loads it.
export async function resolve(specifier, context, next) {
  if (specifier === process.env.DENY_IMPORT) throw new Error(`loaded ${specifier}`);
  return next(specifier, context);
}
