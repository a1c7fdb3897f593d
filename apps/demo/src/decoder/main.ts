console.info('decoder');
