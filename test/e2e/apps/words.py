def split_words(lines):
    return [word for line in lines for word in line.split()]
