// Placeholder until the xmlfix engine lands (issue 3).
process.stdout.write('');
