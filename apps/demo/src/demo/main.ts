console.info('tessera demo');
